#!/usr/bin/env python3
"""Captured inputs (issue 25): what capturing costs at generate time, and
what loading the captured calls costs the script at start-up.

A repository whose unittest test calls `word_counts` 400 times on word
lists of 10-2,000 words (200 distinct calls kept, the default cap). Timed
here with time.perf_counter around subprocess.run: `abbench template` in
the revision form with `--call` (no capture) and with `--inputs-from-test`
(a fresh data directory each time, so the capture runs; then once more
with the same one, so it is reused), 5 times each, alternated. The
start-up cost is the setup's load step itself (read the file, check its
SHA-256, unpickle), timed inside python3 over 20 repetitions.

    cargo build --release && python3 benches/capture.py
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ABBENCH = os.environ.get("ABBENCH_BIN") or os.path.join(ROOT, "target", "release", "abbench")
MODULE = "def word_counts(words):\n    counts = {}\n    for w in words:\n        counts[w] = counts.get(w, 0) + 1\n    return counts\n"
FAST = "from collections import Counter\n\n\ndef word_counts(words):\n    return dict(Counter(words))\n"
TEST = """import random, unittest
from text.count import word_counts


class CountTest(unittest.TestCase):
    def test_many(self):
        rng = random.Random(1)
        for i in range(400):
            n = rng.randint(10, 2000)
            words = ['w%d' % rng.randint(0, n // 3 + 1) for _ in range(n)]
            self.assertEqual(sum(word_counts(words).values()), n)
"""
LOAD = """import hashlib, pickle, sys, time
path = sys.argv[1]
walls = []
for _ in range(20):
    t = time.perf_counter()
    data = open(path, 'rb').read()
    hashlib.sha256(data).hexdigest()
    calls = pickle.loads(data)['calls']
    walls.append(time.perf_counter() - t)
walls.sort()
print(walls[len(walls) // 2], len(calls), len(data))
"""


def sh(*args, cwd=None, env=None):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def main():
    tmp = tempfile.mkdtemp(prefix="abbench-capture-bench-")
    repo = os.path.join(tmp, "repo")
    for path, text in [("text/__init__.py", ""), ("text/count.py", MODULE), ("tests/__init__.py", ""),
                       ("tests/test_count.py", TEST)]:
        os.makedirs(os.path.dirname(os.path.join(repo, path)), exist_ok=True)
        with open(os.path.join(repo, path), "w") as f:
            f.write(text)
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.invalid"]
    sh(*git, "init", "-q", cwd=repo)
    sh(*git, "add", "-A", cwd=repo)
    sh(*git, "commit", "-qm", "base", cwd=repo)
    with open(os.path.join(repo, "text/count.py"), "w") as f:
        f.write(FAST)
    base = [ABBENCH, "template", "--json", "--domain", "cpu", "--target", "text/count.py::word_counts",
            "--cwd", repo, "--dir", tmp, "--runner", "python3"]
    plain, captured, reused = [], [], []
    last = None
    for i in range(5):
        env = dict(os.environ, ABBENCH_DATA_DIR=os.path.join(tmp, f"data{i}"))
        t = time.perf_counter()
        sh(*base, "--name", f"p{i}", "--setup", "import random\nrng = random.Random(1)\nWORDS = ['w%d' % rng.randint(0, 300) for _ in range(1000)]",
           "--call", "return word_counts(WORDS)", env=env)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        last = json.loads(sh(*base, "--name", f"c{i}", "--inputs-from-test",
                             "tests/test_count.py::CountTest::test_many", env=env))
        captured.append(time.perf_counter() - t)
        t = time.perf_counter()
        sh(*base, "--name", f"r{i}", "--inputs-from-test", "tests/test_count.py::CountTest::test_many", env=env)
        reused.append(time.perf_counter() - t)
    med = statistics.median
    inputs = last["inputs"]
    print(f"inputs: {inputs['calls_seen']} calls seen, {inputs['calls_kept']} kept, {inputs['bytes']} bytes")
    print(f"generate, median of 5: --call {med(plain):.2f} s; --inputs-from-test {med(captured):.2f} s "
          f"(capture +{med(captured) - med(plain):.2f} s); reused {med(reused):.2f} s")
    calls = os.path.join(os.path.join(tmp, "data4"), "captures")
    pkl = next(os.path.join(calls, f) for f in os.listdir(calls) if f.endswith(".pkl"))
    wall, n, size = sh("python3", "-c", LOAD, pkl).split()
    print(f"script start-up, loading {n} captured calls ({int(size)} bytes): {float(wall) * 1000:.1f} ms (median of 20)")


if __name__ == "__main__":
    sys.exit(main())
