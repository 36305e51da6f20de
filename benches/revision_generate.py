#!/usr/bin/env python3
"""Latency of generate_ab_script in the revision form, in one server session:
a git repository whose target module has 2,000+ lines (250 functions), one
of them changed in the work tree; every call reads the base's source from
git, renders the script with it embedded, compile-checks it and runs the
import check (both variants loaded, the target resolved and compared).

    cargo build --release && python3 benches/revision_generate.py [--calls N] [--python CMD]
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cold_start import call, pct, start  # noqa: E402


def function(i, fast=False):
    body = "    return sum(len(str(r.get(key, ''))) for r in rows) * %d\n" % i if fast else (
        "    total = 0\n"
        "    for r in rows:\n"
        "        if r.get(key) is not None:\n"
        "            total += len(str(r[key]))\n"
        "    return total * %d\n" % i)
    return f'\n\ndef func_{i}(rows, key="k"):\n    """Function {i} of the module."""\n{body}'


def project(root):
    os.makedirs(os.path.join(root, "pkg"))
    open(os.path.join(root, "pkg", "__init__.py"), "w").close()
    module = '"""A large module."""\nfrom . import helpers\n' + "".join(function(i) for i in range(250))
    with open(os.path.join(root, "pkg", "big.py"), "w") as f:
        f.write(module)
    with open(os.path.join(root, "pkg", "helpers.py"), "w") as f:
        f.write("ROWS = [{'k': i} for i in range(100)]\n")
    git = ["git", "-C", root, "-c", "user.name=b", "-c", "user.email=b@example.invalid"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "base"], check=True)
    with open(os.path.join(root, "pkg", "big.py"), "w") as f:
        f.write(module.replace(function(7), function(7, fast=True)))
    return module.count("\n") + 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--python", default=None, help="runner command (default: detected)")
    p.add_argument("--edit", action="store_true",
                   help="change the work-tree module before every call (B is compiled afresh each time)")
    a = p.parse_args()
    root = tempfile.mkdtemp(prefix="abbench-revgen-")
    lines = project(root)
    out = tempfile.mkdtemp(prefix="abbench-revgen-out-")
    proc, _ = start()
    args = {"name": "big", "domain": "cpu", "target": ["pkg/big.py::func_7"],
            "setup": "from pkg.helpers import ROWS", "call": "return func_7(ROWS)",
            "cwd": root, "dir": out}
    if a.python:
        args["runner"] = a.python
    first = call(proc, 1, "tools/call", {"name": "generate_ab_script", "arguments": args})
    times = []
    big = os.path.join(root, "pkg", "big.py")
    for i in range(a.calls):
        if a.edit:
            with open(big, "a") as f:
                f.write(f"# edit {i}\n")
        times.append(call(proc, 10 + i, "tools/call", {"name": "generate_ab_script", "arguments": args}))
    proc.stdin.close()
    proc.wait()
    print(f"generate_ab_script, revision form, {lines}-line target module: first call {first * 1e3:.0f} ms "
          f"(starts the workers); then p50 {statistics.median(times) * 1e3:.1f} ms, "
          f"p95 {pct(times, 0.95) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms over {a.calls} calls "
          f"(runner: {shlex.join(shlex.split(a.python)) if a.python else 'detected'}; "
          f"{'the work-tree module edited before each call' if a.edit else 'sources unchanged between calls'})")


if __name__ == "__main__":
    main()
