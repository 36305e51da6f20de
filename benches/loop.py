#!/usr/bin/env python3
"""The whole loop on a real project, as an agent runs it: merged speed-ups
of more-itertools, each as its parent commit plus the change as
uncommitted edits, with the project's own `python3 -m unittest` suite.

Per case: the suite alone (timed twice, the faster kept), then
`abbench template` (revision form) and `abbench run`, the first
`abbench keep` (suite + two profiles of the target test) and the same
keep again (nothing changed: what it reuses, how long it takes), an untracked
workload script the agent writes (`bench_workload.py`, calling the target
the way the micro call does, taken into the base by `abbench e2e`), the
e2e run with the target timed inside, and the second `abbench keep` with
that e2e run. Reported: each step's wall time (a fresh abbench process
each, timed here with time.perf_counter around subprocess.run), keep's
overhead beyond the suite, whether the second keep ran anything again,
what simplicity counted, and the target's e2e figure beside its micro
verdict and the workload's.

With --shares it also checks that profiling beside the suite leaves the
hot-path share alone: the target test under cProfile, 5 times alone and
5 times while the suite runs, the target's share of the test's time read
with pstats (no abbench involved).

    cargo build --release
    python3 benches/loop.py --repo PATH [--cases 610e148,...] [--shares] [--python python3.12] [--json FILE]

Installs nothing; uses python3 (or --python: the runner of everything;
more-itertools needs no dependencies) and git. Data go to a temporary
ABBENCH_DATA_DIR. ABBENCH_BIN picks another abbench build.
"""
import argparse
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from equivalence_real import ABBENCH, CASES, project  # noqa: E402

TESTS = {
    "237388c": "tests/test_recipes.py::NthPermutationTests::test_r_less_than_n",
    "45a9b51": "tests/test_more.py::IsliceExtendedTests::test_all",
    "3f43b98": "tests/test_more.py::IchunkedTests::test_even",
    "610e148": "tests/test_recipes.py::FactorTests::test_basic",
}
PYTHON = "python3"
WORKLOAD = """import sys
from more_itertools.more import *
from more_itertools.more import _islice_helper
from more_itertools.recipes import *


def work():
{body}


for _ in range({n}):
    work()
"""


def timed(args, cwd=None):
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    return done, time.perf_counter() - started


def abbench(*args, cwd=None):
    done, wall = timed([ABBENCH, *args, "--json"], cwd=cwd)
    if done.returncode != 0:
        raise SystemExit(f"abbench {' '.join(args[:1])} failed: {done.stderr.strip()[-600:]}")
    return json.loads(done.stdout), wall


def condition(keep, name):
    return next(c for c in keep["conditions"] if c["name"] == name)


def suite():
    return [PYTHON, "-m", "unittest", "-q"]


def loop(root, commit, target, call, out):
    row = {"commit": commit, "target": target, "python": PYTHON}
    suite_s = [timed(suite(), cwd=root)[1] for _ in range(2)]
    row["suite_s"] = min(suite_s)
    gen, row["generate_s"] = abbench("template", "--name", f"l{commit}", "--domain", "cpu",
                                     "--target", target, "--call", call, "--cwd", root, "--dir", out,
                                     "--runner", PYTHON)
    run, row["run_s"] = abbench("run", gen["path"], "--cwd", root, "--runner", PYTHON)
    row["micro"] = {"verdict": run["verdict"], "speedup": run["speedup"]}
    keep_args = ["keep", "--run-id", run["run_id"], "--repo", root,
                 "--test-command", " ".join(suite()), "--test", TESTS[commit], "--runner", PYTHON]
    first, row["keep1_s"] = abbench(*keep_args)
    row["keep1"] = {"decision": first["decision"], "durations": first["durations"],
                    "hot_path": condition(first, "hot_path")["summary"][:200]}
    again, row["keep_again_s"] = abbench(*keep_args)
    row["keep_again"] = {"durations": again["durations"],
                         "reused": [c["name"] for c in again["conditions"] if "reused_from" in c["figures"]]}
    body = "    " + call.replace("\n", "\n    ")
    with open(os.path.join(root, "bench_workload.py"), "w") as f:
        f.write(WORKLOAD.format(body=body, n=20))
    e2e, row["e2e_s"] = abbench("e2e", "--repo", root, "--command", f"{PYTHON} bench_workload.py",
                                "--target", target, "--runner", PYTHON)
    t = e2e["targets"][0]
    row["e2e"] = {"verdict": e2e["comparison"]["verdict"], "speedup": e2e["comparison"].get("speedup"),
                  "target_speedup": t.get("speedup"), "target_summary": t["summary"],
                  "hook": (e2e.get("target_hook") or {}).get("method"),
                  "copied_to_base": e2e.get("copied_to_base")}
    second, row["keep2_s"] = abbench(*keep_args, "--e2e-run-id", e2e["run_id"])
    simple = condition(second, "simplicity")
    row["keep2"] = {"decision": second["decision"], "durations": second["durations"],
                    "tests": condition(second, "tests")["summary"][:120],
                    "simplicity": simple["summary"], "not_counted": simple["figures"].get("not_counted")}
    return row


def share(root, test, func):
    """The target's cumulative share of the test method's, from one cProfile run."""
    fd, prof = tempfile.mkstemp(suffix=".prof")
    os.close(fd)
    file, cls, meth = test.split("::")
    module = file[:-3].replace("/", ".")
    subprocess.run([PYTHON, "-m", "cProfile", "-o", prof, "-m", "unittest", f"{module}.{cls}.{meth}"],
                   cwd=root, capture_output=True, check=True)
    stats = pstats.Stats(prof).stats
    os.remove(prof)
    cum = lambda name: max((v[3] for (f, _, n), v in stats.items() if n == name), default=0.0)  # noqa: E731
    return cum(func) / max(cum(meth), 1e-12)


def shares(root, commit, target):
    func = target.rsplit("::", 1)[1]
    alone = [share(root, TESTS[commit], func) for _ in range(5)]
    busy = []
    for _ in range(5):
        running = subprocess.Popen(suite(), cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        busy.append(share(root, TESTS[commit], func))
        running.wait()
    return {"alone": alone, "beside_suite": busy}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True, help="a clone of more-itertools/more-itertools")
    ap.add_argument("--cases", default=",".join(TESTS), help="commits, comma-separated")
    ap.add_argument("--shares", action="store_true", help="also measure the hot-path share alone vs beside the suite")
    ap.add_argument("--python", default="python3", help="the project's Python (runner, suite, workload)")
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args()
    global PYTHON
    PYTHON = a.python
    rows = []
    tmp = tempfile.mkdtemp(prefix="abbench-loop-")
    os.environ["ABBENCH_DATA_DIR"] = os.path.join(tmp, "data")
    try:
        for commit, targets, call in CASES:
            if commit not in a.cases.split(","):
                continue
            root = project(a.repo, commit, tmp)
            out = os.path.join(tmp, commit + "-out")
            os.makedirs(out)
            row = loop(root, commit, targets[0], call, out)
            if a.shares:
                row["shares"] = shares(root, commit, targets[0])
            rows.append(row)
            over = row["keep1_s"] - row["suite_s"]
            e = row["e2e"]
            ts = e["target_speedup"] or {}
            print(f"{commit} {targets[0].rsplit('::')[1]:<16} suite {row['suite_s']:5.1f} s | keep {row['keep1_s']:5.1f} s "
                  f"(+{over:4.1f}) | again {row['keep_again_s']:4.1f} s | e2e {row['e2e_s']:5.1f} s | keep after e2e {row['keep2_s']:4.1f} s | "
                  f"micro {row['micro']['verdict']}, e2e {e['verdict']} "
                  f"{(e['speedup'] or {}).get('estimate', 0):.3f}x, target {ts.get('estimate', 0):.3f}x "
                  f"[{ts.get('low', 0):.3f}..{ts.get('high', 0):.3f}] ({e['hook']})", flush=True)
            print(f"    keep after e2e: {row['keep2']['decision']}; {row['keep2']['tests'][:60]}...; "
                  f"{row['keep2']['simplicity'][:160]}", flush=True)
            if a.shares:
                s = row["shares"]
                print(f"    share alone {statistics.median(s['alone']) * 100:.1f} % "
                      f"[{min(s['alone']) * 100:.1f}..{max(s['alone']) * 100:.1f}], beside the suite "
                      f"{statistics.median(s['beside_suite']) * 100:.1f} % "
                      f"[{min(s['beside_suite']) * 100:.1f}..{max(s['beside_suite']) * 100:.1f}]", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
