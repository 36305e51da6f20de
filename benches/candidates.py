#!/usr/bin/env python3
"""Several candidates in one run (issue 26): the wall time of one run of
four candidates — a null one (A's algorithm under other names), a faster
one (collections.Counter), a wrong one and a duplicate of the faster one —
against one A/B run of the faster candidate alone, on this machine, in the
same session.

Two workloads: word counting (dict work on 20,000 strings) and string
building (joining 5,000 formatted fields). Both scripts are generated once
with `abbench template`, then `abbench run --json` is timed with
time.perf_counter around subprocess.run, the two runs alternated, REPS
times each (default 7). Prints the medians, their ratio (the bound is
2.5x) and every run's verdicts.

    cargo build --release && python3 benches/candidates.py [--reps N] [--json FILE]

With `--pyperf PYTHON` (a Python with pyperf 2.10.0, e.g. a venv of your
own), each workload's A, null and fast variants are also timed by
`PYTHON -m pyperf timeit` (20 processes, its defaults otherwise), after the
abbench runs, and pyperf's ratio of means is printed beside abbench's
estimate and bounds from the four-candidate runs: the real-code check of
the multi-candidate design.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ABBENCH = os.environ.get("ABBENCH_BIN") or os.path.join(ROOT, "target", "release", "abbench")

WORKLOADS = {
    "word_counts": {
        "setup": "from collections import Counter\nWORDS = ['w%d' % (i % 300) for i in range(20000)]",
        "a": "counts = {}\nfor w in WORDS:\n    if w in counts:\n        counts[w] += 1\n    else:\n        counts[w] = 1\nreturn counts",
        "null": "seen = {}\nfor word in WORDS:\n    if word in seen:\n        seen[word] += 1\n    else:\n        seen[word] = 1\nreturn seen",
        "fast": "return dict(Counter(WORDS))",
        "wrong": "return dict(Counter(WORDS[1:]))",
        "duplicate": "# the C counter\nreturn dict( Counter( WORDS ) )",
    },
    "join_fields": {
        "setup": "ROWS = [(i, 'name%d' % i, i * 0.5) for i in range(5000)]",
        "a": "out = ''\nfor i, name, value in ROWS:\n    out += '%d,%s,%.2f\\n' % (i, name, value)\nreturn out",
        "null": "text = ''\nfor n, label, v in ROWS:\n    text += '%d,%s,%.2f\\n' % (n, label, v)\nreturn text",
        "fast": "return ''.join(['%d,%s,%.2f\\n' % row for row in ROWS])",
        "wrong": "return ''.join(['%d,%s,%.2f' % row for row in ROWS])",
        "duplicate": "return ''.join( ['%d,%s,%.2f\\n' % row for row in ROWS] )  # same",
    },
}


def template(workload, name, out, candidates):
    w = WORKLOADS[workload]
    args = [ABBENCH, "template", "--json", "--name", name, "--domain", "cpu", "--setup", w["setup"],
            "--a", w["a"], "--dir", out, "--runner", "python3"]
    if candidates:
        for label in ("null", "fast", "wrong", "duplicate"):
            args += ["--candidate-code", f"{label}={w[label]}"]
    else:
        args += ["--b", w["fast"]]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["path"]


def run(script, data):
    started = time.perf_counter()
    done = subprocess.run([ABBENCH, "run", "--json", "--runner", "python3", script],
                          capture_output=True, text=True, env={**os.environ, "ABBENCH_DATA_DIR": data})
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    r = json.loads(done.stdout)
    verdicts = {c["label"]: c.get("verdict") or "duplicate" for c in r.get("candidates", [])} or {"fast": r["verdict"]}
    speedups = [{"label": c["label"], "speedup": c["speedup"]} for c in r.get("candidates", []) if c.get("speedup")]
    return wall, verdicts, r.get("best"), speedups


def pyperf_ratio(python, workload):
    """pyperf's mean seconds of A, null and fast, and the ratios A / each."""
    w = WORKLOADS[workload]
    indent = lambda body: "\n".join("    " + line for line in body.splitlines())
    setup = w["setup"] + "".join(f"\ndef bench_{k}():\n{indent(w[k])}" for k in ("a", "null", "fast"))
    means = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in ("a", "null", "fast"):
            out = os.path.join(tmp, k + ".json")
            subprocess.run([python, "-m", "pyperf", "timeit", "--quiet", "--processes", "20", "-o", out,
                            "-s", setup, f"bench_{k}()"], check=True, capture_output=True)
            with open(out) as f:
                runs = json.load(f)["benchmarks"][0]["runs"]
            values = [v for r in runs for v in r.get("values", [])]
            means[k] = statistics.mean(values)
    return means, {k: means["a"] / means[k] for k in ("null", "fast")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--json")
    parser.add_argument("--pyperf", help="a Python with pyperf, for the real-code check")
    opts = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as data:
        for workload in WORKLOADS:
            many = template(workload, workload + "_many", out, True)
            one = template(workload, workload + "_one", out, False)
            walls = {"four": [], "one": []}
            runs = []
            for _ in range(opts.reps):
                for kind, script in (("four", many), ("one", one)):
                    wall, verdicts, best, speedups = run(script, data)
                    walls[kind].append(wall)
                    runs.append({"kind": kind, "wall_s": round(wall, 3), "verdicts": verdicts, "best": best,
                                 "speedups": speedups})
            four, one_ = statistics.median(walls["four"]), statistics.median(walls["one"])
            print(f"{workload}: four candidates {four:.2f} s (median of {opts.reps}), "
                  f"the fast one alone {one_:.2f} s; ratio {four / one_:.2f}x (bound 2.5x)")
            for r in runs:
                print(f"  {r['kind']:<4} {r['wall_s']:.2f} s  best={r['best']}  {r['verdicts']}")
            results[workload] = {"four_s": walls["four"], "one_s": walls["one"], "ratio": four / one_, "runs": runs}
            if opts.pyperf:
                means, ratios = pyperf_ratio(opts.pyperf, workload)
                estimates = {}
                for label in ("null", "fast"):
                    found = [c["speedup"] for r in runs if r["kind"] == "four" for c in r.get("speedups", []) if c["label"] == label]
                    estimates[label] = found
                    shown = ", ".join(f"{s['estimate']:.3f}x [{s['low']:.3f}..{s['high']:.3f}]" for s in found)
                    print(f"  {label}: pyperf {ratios[label]:.3f}x (means {means['a'] * 1e6:.1f} / {means[label] * 1e6:.1f} us); abbench {shown}")
                results[workload]["pyperf"] = {"means_s": means, "ratios": ratios}
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
