#!/usr/bin/env python3
"""Figures for run_ab_benchmark: time and pairs to a verdict, and abbench's
own overhead per process. Uses the release binary; installs nothing.

    cargo build --release && python3 benches/run_figures.py [--reps N]

Cases:
  2x   A calls a pure-Python loop of 2n iterations, B of n (true speedup 2.0)
  A/A  A and B identical
  overhead  a hand-written script that does nothing (no ABBENCH line, so
       abbench times each process from outside). Runs with exactly 5 and
       exactly 30 pairs; the extra 50 processes' wall time, minus the
       processes' own wall time as abbench measured it, is abbench's
       bookkeeping per process (scheduling, parsing, progress, lock).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ABBENCH = os.path.join(ROOT, "target", "release", "abbench")
WORK = "def work(n):\n    t = 0\n    for i in range(n):\n        t += i * i\n    return t"


def abbench(*args, env=None):
    out = subprocess.run([ABBENCH, *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"abbench {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    reps = p.parse_args().reps
    tmp = tempfile.mkdtemp(prefix="abbench-figures-")
    env = dict(os.environ, ABBENCH_DATA_DIR=tmp)

    print(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; {reps} runs per case\n")
    print("| case | verdicts | median wall s to verdict | median pairs | median speedup |")
    print("|---|---|---|---|---|")
    for case, n_a, n_b in [("2x", 40000, 20000), ("A/A", 20000, 20000)]:
        script = abbench("template", "--name", f"fig_{case.replace('/', '')}", "--domain", "cpu",
                         "--setup", WORK, "--a", f"return work({n_a})", "--b", f"return work({n_b})",
                         "--dir", tmp, env=env).strip()
        runs = [json.loads(abbench("run", script, "--json", "--cwd", tmp, env=env)) for _ in range(reps)]
        verdicts = {}
        for r in runs:
            verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
        print(f"| {case} | {', '.join(f'{k} {v}/{reps}' for k, v in verdicts.items())} "
              f"| {statistics.median(r['elapsed_s'] for r in runs):.1f} "
              f"| {statistics.median(r['pairs'] for r in runs):.0f} "
              f"| {statistics.median(r['speedup']['estimate'] for r in runs):.3f} |")

    idle = os.path.join(tmp, "idle.py")
    with open(idle, "w") as f:
        f.write("import sys\n")
    overheads, walls = [], []
    for _ in range(reps):
        r5, r30 = (json.loads(abbench("run", idle, "--json", "--domain", "cpu", "--cwd", tmp,
                                      "--min-pairs", str(n), "--max-pairs", str(n), env=env))
                   for n in (5, 30))
        extra_processes = 2 * (30 - 5)
        own = sum(r30["a"]["values"] + r30["b"]["values"]) - sum(r5["a"]["values"] + r5["b"]["values"])
        overheads.append((r30["elapsed_s"] - r5["elapsed_s"] - own) / extra_processes)
        walls.append(statistics.median(r30["a"]["values"] + r30["b"]["values"]))
    direct = []
    for _ in range(60):
        t = time.perf_counter()
        subprocess.run([sys.executable, idle, "a"])
        direct.append(time.perf_counter() - t)
    print(f"\noverhead: abbench bookkeeping per process {statistics.median(overheads) * 1e3:.2f} ms "
          f"(median of {reps}; each from 50 extra processes); a do-nothing Python process "
          f"{statistics.median(walls) * 1e3:.1f} ms spawn-to-exit as abbench measures it, "
          f"{statistics.median(direct) * 1e3:.1f} ms with Python's subprocess.run")


if __name__ == "__main__":
    main()
