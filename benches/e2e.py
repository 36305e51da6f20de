#!/usr/bin/env python3
"""run_e2e_benchmark on realistic workloads: time to a verdict, and its
accuracy against the truth.

Each case is a small git repository: a package whose module holds the
target function and other work the workload also does (parsing, sorting,
formatting: what dilutes a function's gain), and `work.py`, the workload.
The base is committed; the candidate is written into the work tree. The
truth is known by construction for the null changes (the same code: a
ratio of 1.0) and measured for the others by a long reference: 40 pairs of
fresh processes of each revision, alternated, timed here with
time.perf_counter around subprocess.run (no abbench involved), whose
median ratio is the end-to-end speedup.

For each case abbench e2e runs `--reps` times (default 5) with its
defaults (5 % bar, looks at 5/10/20/30 pairs); the table gives each
verdict, the median estimate, the median time to a verdict, and whether
the verdict is right: a null change must never be above_threshold or a
regression; a change whose reference gain is clearly above 5 % (reference
speedup > 1.10) must be above_threshold; one whose reference is clearly
below (< 1.02) must not be.

With --overhead it also times the target hook: the same workload with and
without `--target`, 20 alternated processes each, per Python found.

    cargo build --release && python3 benches/e2e.py [--reps N] [--cases a,b] [--overhead]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ABBENCH = os.path.join(ROOT, "target", "release", "abbench")

TEXT = '''import random
random.seed(3)
_V = ["order", "shipped", "Invoice", "paid", "refund", "customer", "Item", "warehouse", "delay", "priority"]
TEXT = " ".join(random.choice(_V) + random.choice(["", "", ",", ".", "!"]) for _ in range(20000))
PUNCT = ".,;:!?"
'''

COUNT_LOOP = '''
def count_words(text):
    counts = {}
    for w in text.lower().split():
        w = w.strip(PUNCT)
        if w in counts:
            counts[w] += 1
        else:
            counts[w] = 1
    return counts
'''

COUNT_RENAMED = '''
def count_words(text):
    tally = {}
    for word in text.lower().split():
        word = word.strip(PUNCT)
        if word in tally:
            tally[word] += 1
        else:
            tally[word] = 1
    return tally
'''

COUNT_COUNTER = '''
def count_words(text):
    from collections import Counter
    return Counter(w.strip(PUNCT) for w in text.lower().split())
'''

TEXT_REST = '''

def report():
    lines = []
    for day in range(6):
        counts = count_words(TEXT)
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        lines.append(", ".join(f"{w}={n}" for w, n in top))
    return "\\n".join(lines)
'''

ROWS = '''import random
random.seed(2)
ROWS = [{"id": i, "name": f"n{i}", "v": random.random()} for i in range(40000)]
'''

INDEX_LOOP = '''
def index_by_id(rows):
    out = {}
    for r in rows:
        out[r["id"]] = r
    return out
'''

INDEX_COMPREHENSION = '''
def index_by_id(rows):
    return {r["id"]: r for r in rows}
'''

ROWS_REST = '''

def report():
    total = 0.0
    for _ in range(4):
        index = index_by_id(ROWS)
        total += sum(index[i]["v"] for i in range(0, len(ROWS), 7))
        total += sum(len(r["name"]) for r in sorted(ROWS, key=lambda r: r["v"])[:1000])
    return round(total, 3)
'''

TREE = '''def make(depth):
    return {"v": depth, "kids": [make(depth - 1) for _ in range(3)] if depth else []}
TREE = make(8)
'''

FLATTEN_RECURSIVE = '''
def flatten(node):
    out = [node["v"]]
    for kid in node["kids"]:
        out.extend(flatten(kid))
    return out
'''

FLATTEN_STACK = '''
def flatten(node):
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n["v"])
        stack.extend(reversed(n["kids"]))
    return out
'''

TREE_REST = '''

def report():
    return sum(sum(flatten(TREE)) for _ in range(6))
'''

ASYNC = '''import asyncio
'''

FETCH_SEQUENTIAL = '''
async def fetch_all(n):
    out = []
    for i in range(n):
        await asyncio.sleep(0.002)
        out.append(i)
    return out
'''

FETCH_GATHER = '''
async def fetch_all(n):
    async def one(i):
        await asyncio.sleep(0.002)
        return i
    return list(await asyncio.gather(*(one(i) for i in range(n))))
'''

ASYNC_REST = '''

def report():
    rows = asyncio.run(fetch_all(40))
    return sum(x * x for x in range(300000)) + len(rows)
'''

WORK = "from app.mod import report\nprint(report())\n"

# name: (setup, base function, candidate function, rest, target, null by construction)
CASES = {
    "text_null": (TEXT, COUNT_LOOP, COUNT_RENAMED, TEXT_REST, "count_words", True),
    "text_counter": (TEXT, COUNT_LOOP, COUNT_COUNTER, TEXT_REST, "count_words", False),
    "dict_comprehension": (ROWS, INDEX_LOOP, INDEX_COMPREHENSION, ROWS_REST, "index_by_id", False),
    "tree_iterative": (TREE, FLATTEN_RECURSIVE, FLATTEN_STACK, TREE_REST, "flatten", False),
    "async_gather": (ASYNC, FETCH_SEQUENTIAL, FETCH_GATHER, ASYNC_REST, "fetch_all", False),
}


def git(root, *args):
    subprocess.run(["git", "-C", root, "-c", "user.name=b", "-c", "user.email=b@example.invalid", *args],
                   check=True, capture_output=True)


def repository(setup, base, candidate, rest):
    root = tempfile.mkdtemp(prefix="abbench-e2e-bench-")
    os.makedirs(os.path.join(root, "app"))
    open(os.path.join(root, "app", "__init__.py"), "w").close()
    with open(os.path.join(root, "app", "mod.py"), "w") as f:
        f.write(setup + base + rest)
    with open(os.path.join(root, "work.py"), "w") as f:
        f.write(WORK)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    with open(os.path.join(root, "app", "mod.py"), "w") as f:
        f.write(setup + candidate + rest)
    return root


def timed(python, tree):
    env = dict(os.environ, PYTHONPATH=tree)
    t0 = time.perf_counter()
    subprocess.run([python, "work.py"], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def reference(python, root, pairs):
    """Median base/candidate ratio over `pairs` alternated fresh processes."""
    base = tempfile.mkdtemp(prefix="abbench-e2e-ref-")
    tree = os.path.join(base, "tree")
    git(root, "worktree", "add", "--detach", "-q", tree, "HEAD")
    try:
        a, b = [], []
        for i in range(pairs + 1):
            order = [(a, tree), (b, root)] if i % 2 == 0 else [(b, root), (a, tree)]
            for values, where in order:
                value = timed(python, where)
                if i:  # the first pair warms up
                    values.append(value)
        return statistics.median(a) / statistics.median(b), statistics.median(a)
    finally:
        git(root, "worktree", "remove", "--force", tree)


def e2e(root, target, data, extra=()):
    t0 = time.perf_counter()
    out = subprocess.run([ABBENCH, "e2e", "--json", "--repo", root, "--command", "python3 work.py",
                          "--target", f"app/mod.py::{target}", *extra],
                         capture_output=True, text=True, env=dict(os.environ, ABBENCH_DATA_DIR=data))
    if out.returncode != 0:
        raise SystemExit(f"abbench e2e failed: {out.stderr}")
    return json.loads(out.stdout), time.perf_counter() - t0


def right(verdict, truth, null):
    if null:
        return verdict in ("below_threshold", "inconclusive")
    if truth > 1.10:
        return verdict == "above_threshold"
    if truth < 1.02:
        return verdict != "above_threshold"
    return None  # near the bar: either answer is defensible


def overhead(pythons, root, target, data):
    print("\nhook overhead (20 alternated processes each, median wall time):")
    for python in pythons:
        hooked, plain = [], []
        hook_dir = tempfile.mkdtemp(prefix="abbench-hook-")
        src = os.path.join(ROOT, "src", "python", "e2e_hook.py")
        with open(src) as f, open(os.path.join(hook_dir, "sitecustomize.py"), "w") as g:
            g.write(f.read())
        targets = json.dumps([{"file": "app/mod.py", "qualname": target}])
        for i in range(21):
            for hook in ((True, False) if i % 2 else (False, True)):
                out = os.path.join(hook_dir, "r.json")
                env = dict(os.environ, PYTHONPATH=f"{hook_dir}:{root}" if hook else root,
                           ABBENCH_E2E_OUT=out, ABBENCH_E2E_ROOT=root, ABBENCH_E2E_TARGETS=targets)
                t0 = time.perf_counter()
                subprocess.run([python, "work.py"], cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
                dt = time.perf_counter() - t0
                if i:
                    (hooked if hook else plain).append(dt)
        method = json.load(open(os.path.join(hook_dir, "r.json")))["hook"]
        h, p = statistics.median(hooked), statistics.median(plain)
        print(f"  {python}: {method}: {h * 1e3:.1f} ms hooked vs {p * 1e3:.1f} ms plain ({100 * (h / p - 1):+.1f} %)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--pairs", type=int, default=40, help="reference pairs per case")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--python", default="python3")
    ap.add_argument("--overhead", action="store_true")
    ap.add_argument("--overhead-pythons", default="")
    a = ap.parse_args()
    python = subprocess.run([a.python, "-c", "import sys; print(sys.executable)"],
                            capture_output=True, text=True, check=True).stdout.strip()
    data = tempfile.mkdtemp(prefix="abbench-e2e-ledger-")
    print(f"python {python}; abbench e2e defaults (gain > 5 %, looks at 5/10/20/30 pairs), {a.reps} runs per case\n")
    print(f"{'case':<20} {'truth':>7} {'base':>8}  {'verdicts':<44} {'est.':>6} {'target':>7} {'share':>6} {'time':>6} {'pairs':>5} right")
    for name in a.cases.split(","):
        setup, base, candidate, rest, target, null = CASES[name]
        root = repository(setup, base, candidate, rest)
        truth, base_s = (1.0, None) if null else reference(python, root, a.pairs)
        if null:
            _, base_s = reference(python, root, 5)
        verdicts, estimates, times, pairs, tgt, share = [], [], [], [], [], []
        for _ in range(a.reps):
            r, elapsed = e2e(root, target, data)
            verdicts.append(r["comparison"]["verdict"])
            estimates.append(r["comparison"]["speedup"]["estimate"])
            times.append(elapsed)
            pairs.append(r["comparison"]["pairs"])
            t = r["targets"][0]
            if t["speedup"]:
                tgt.append(t["speedup"]["estimate"])
            if t["base"]:
                share.append(t["base"]["share"])
        counts = {v: verdicts.count(v) for v in dict.fromkeys(verdicts)}
        shown = ", ".join(f"{n} {v}" for v, n in counts.items())
        ok = [right(v, truth, null) for v in verdicts]
        judged = [x for x in ok if x is not None]
        score = f"{sum(judged)}/{len(judged)}" if judged else "near bar"
        print(f"{name:<20} {truth:>7.3f} {base_s * 1e3:>6.0f}ms  {shown:<44} {statistics.median(estimates):>6.3f} "
              f"{statistics.median(tgt) if tgt else float('nan'):>7.2f} {statistics.median(share) if share else 0:>6.2f} "
              f"{statistics.median(times):>5.1f}s {statistics.median(pairs):>5.0f} {score}")
        if a.overhead and name == "text_counter":
            pythons = [python] + [p for p in a.overhead_pythons.split(",") if p]
            overhead(pythons, root, target, data)
        subprocess.run(["rm", "-rf", root])


if __name__ == "__main__":
    main()
