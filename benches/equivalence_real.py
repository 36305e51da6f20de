#!/usr/bin/env python3
"""The equivalence check on real optimizations other people made: merged
speed-ups of more-itertools, each as its parent commit plus the change as
uncommitted edits, checked the way an agent would (generate_ab_script in
the revision form, through `abbench template --json`). Every one of these
is a correct optimization, so every answer should be `same`: a
`different` here is a false alarm that would block an agent. Each change
is also turned wrong on purpose (its result reversed, or its input
mutated), which must come back `different`.

    cargo build --release
    python3 benches/equivalence_real.py --repo PATH   # a clone of more-itertools/more-itertools

Installs nothing; uses python3 and git. Prints one line per case and a
summary; `--json FILE` keeps the rows.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ABBENCH = os.environ.get("ABBENCH_BIN") or os.path.join(ROOT, "target", "release", "abbench")
M = "more_itertools/more.py"
R = "more_itertools/recipes.py"

# commit, [targets], call (the targets' names are bound to each variant's code)
CASES = [
    ("237388c", [f"{M}::nth_permutation"],
     "return [nth_permutation(range(9), 5, i) for i in range(0, 15000, 37)]"),
    ("45a9b51", [f"{M}::_islice_helper"],
     "return [list(_islice_helper(iter(range(100)), s)) for s in (slice(5, 50, 3), slice(-20, None), "
     "slice(None, -10, 2), slice(80, 10, -4), slice(-5, -50, -3), slice(None, None, -1))]"),
    ("3f43b98", [f"{M}::ichunked"], "return [list(c) for c in ichunked(range(10000), 7)]"),
    ("610e148", [f"{R}::factor"],
     "return [list(factor(n)) for n in range(2, 3000)] + [list(factor(600851475143)), list(factor(2 ** 31 - 1))]"),
    ("8726eb0", [f"{M}::_complex_sumprod"],
     "return _complex_sumprod([complex(i, -i) for i in range(300)], [complex(i % 7, i % 3 - 1.5) for i in range(300)])"),
    ("bc8c7ac", [f"{M}::only"], "return [only(x, default='d') for x in ([], [1], 'a', range(1), iter([None]))]"),
    ("b4f7911", [f"{R}::all_equal"],
     "return [all_equal(x) for x in (['a'] * 500, ['a'] * 499 + ['b'], [], 'aaab', range(1))] "
     "+ [all_equal(['A', 'a'], key=str.lower)]"),
    ("7ddf9d2", [f"{R}::triplewise"], "return list(triplewise(range(5000))) + list(triplewise('ab'))"),
    ("39cbab5", [f"{M}::spy"], "head, it = spy(iter(range(100)), 5)\nreturn head, list(it), spy([], 3)[0]"),
    ("f2d58f3", [f"{M}::chunked_even"],
     "return [list(chunked_even(range(n), 7)) for n in (0, 1, 50, 1001)] + [list(chunked_even(iter(range(103)), 10))]"),
    ("ed4f9f3", [f"{M}::windowed"],
     "return list(windowed(range(500), 5)) + list(windowed(range(20), 4, fillvalue='x', step=3)) + list(windowed([], 3))"),
    ("011deda", [f"{M}::padded"],
     "from itertools import islice\nreturn [list(padded(range(10), '*', 15)), list(padded(range(10), '*', 4, True)), "
     "list(padded([], 0, 3)), list(islice(padded(range(3)), 6))]"),
    ("adeda34", [f"{M}::exactly_n"], "return [exactly_n(range(50), n, lambda x: x % 3 == 0) for n in range(25)]"),
    ("fc5773f", [f"{R}::sliding_window"], "return list(sliding_window(range(1000), 4)) + list(sliding_window('ab', 3))"),
    ("919f856", [f"{R}::_factor_pollard"], "return [_factor_pollard(n) for n in (8051, 10403, 600851475143, 1000000007 * 998244353)]"),
]


def sh(*args, cwd=None, input=None):
    return subprocess.run(args, cwd=cwd, input=input, capture_output=True, text=True, check=True).stdout


def project(repo, commit, tmp):
    """The parent of `commit` as a fresh repository, `commit`'s change applied uncommitted."""
    root = os.path.join(tmp, commit)
    os.makedirs(root)
    archive = subprocess.run(["git", "-C", repo, "archive", f"{commit}^"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", root], input=archive, check=True)
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.invalid"]
    sh(*git, "init", "-q", cwd=root)
    sh(*git, "add", "-A", cwd=root)
    sh(*git, "commit", "-qm", "base", cwd=root)
    diff = sh("git", "-C", repo, "diff", f"{commit}^", commit, "--", "more_itertools/")
    sh("git", "apply", "-", cwd=root, input=diff)
    return root


def check(root, name, targets, call, out):
    args = [ABBENCH, "template", "--json", "--name", name, "--domain", "cpu", "--call", call,
            "--cwd", root, "--dir", out]
    for t in targets:
        args += ["--target", t]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"status": "error", "detail": done.stderr.strip()[-300:], "wall_s": wall}
    e = json.loads(done.stdout)["equivalence"]
    return {"status": e["status"], "detail": e.get("first_difference") or e.get("reason") or "",
            "notes": e.get("notes", []), "wall_s": wall}


def break_it(root, targets):
    """The change made wrong: an iterator result gets an extra first item
    (lazily: some never end), a list or tuple comes back reversed, a
    number doubled, a bool negated."""
    file, _, func = targets[0].partition("::")
    path = os.path.join(root, file)
    with open(path) as f:
        text = f.read()
    text += (f"\n\n_abbench_original_{func} = {func}\n\n"
             f"def {func}(*args, **kwargs):\n"
             f"    result = _abbench_original_{func}(*args, **kwargs)\n"
             f"    if hasattr(result, '__next__'):\n"
             f"        import itertools\n"
             f"        return itertools.chain(['<broken>'], result)\n"
             f"    if isinstance(result, (bool, int, float, complex, str, type(None))):\n"
             f"        return result if result is None else (not result if isinstance(result, bool) else result * 2)\n"
             f"    items = list(result) if not isinstance(result, tuple) else list(result)\n"
             f"    return items[::-1] if len(items) > 1 else items + [None]\n")
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True, help="a clone of more-itertools/more-itertools")
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args()
    rows = []
    tmp = tempfile.mkdtemp(prefix="abbench-equiv-")
    data = os.path.join(tmp, "data")
    os.environ["ABBENCH_DATA_DIR"] = data
    try:
        for commit, targets, call in CASES:
            root = project(a.repo, commit, tmp)
            out = os.path.join(tmp, commit + "-out")
            os.makedirs(out)
            right = check(root, f"c{commit}", targets, call, out)
            break_it(root, targets)
            wrong = check(root, f"w{commit}", targets, call, out)
            rows.append({"commit": commit, "target": targets[0], "correct": right, "broken": wrong})
            print(f"{commit} {targets[0]:<45} correct: {right['status']:<16} broken: {wrong['status']:<16} "
                  f"({right['wall_s'] * 1000:.0f} ms) {right['detail'][:90]}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    same = sum(r["correct"]["status"] == "same" for r in rows)
    caught = sum(r["broken"]["status"] == "different" for r in rows)
    walls = sorted(r["correct"]["wall_s"] for r in rows)
    print(f"\ncorrect changes called same: {same}/{len(rows)}; broken changes called different: "
          f"{caught}/{len(rows)}; generate wall median {walls[len(walls) // 2] * 1000:.0f} ms, "
          f"max {walls[-1] * 1000:.0f} ms (a fresh `abbench template` process each: its workers start cold)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
