#!/usr/bin/env python3
"""Cold start of `abbench serve`: spawn to the initialize reply, and the
latency of tools/list and generate_ab_script in one session.

    cargo build --release && python3 benches/cold_start.py [--runs N] [--calls N]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# ABBENCH_BIN: another build to measure (a before/after).
ABBENCH = os.environ.get("ABBENCH_BIN") or os.path.join(ROOT, "target", "release", "abbench")
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "bench", "version": "0"}}}


def send(proc, msg):
    proc.stdin.write(json.dumps(msg) + "\n")
    proc.stdin.flush()


def start():
    t = time.perf_counter()
    proc = subprocess.Popen([ABBENCH, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)
    send(proc, INIT)
    reply = proc.stdout.readline()
    elapsed = time.perf_counter() - t
    assert '"abbench"' in reply, reply
    send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    return proc, elapsed


def call(proc, i, method, params):
    t = time.perf_counter()
    send(proc, {"jsonrpc": "2.0", "id": i, "method": method, "params": params})
    reply = json.loads(proc.stdout.readline())
    assert "result" in reply and not reply["result"].get("isError"), reply
    return time.perf_counter() - t


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--calls", type=int, default=200)
    a = p.parse_args()
    colds = []
    for _ in range(a.runs):
        proc, elapsed = start()
        colds.append(elapsed)
        proc.stdin.close()
        proc.wait()
    print(f"cold start to initialize reply: median {statistics.median(colds) * 1e3:.1f} ms, "
          f"p95 {pct(colds, 0.95) * 1e3:.1f} ms over {a.runs} starts")
    proc, _ = start()
    d = tempfile.mkdtemp(prefix="abbench-cold-")
    lists = [call(proc, 100 + i, "tools/list", {}) for i in range(a.calls)]
    gens = [call(proc, 1000 + i, "tools/call", {"name": "generate_ab_script", "arguments": {
        "name": f"g{i}", "domain": "cpu", "setup": "data = list(range(100))",
        "code_a": "return sum(x for x in data)", "code_b": "return sum(data)", "dir": d}})
        for i in range(a.calls)]
    py = []
    for _ in range(30):
        t = time.perf_counter()
        subprocess.run(["python3", "-c", "pass"])
        py.append(time.perf_counter() - t)
    proc.stdin.close()
    proc.wait()
    print(f"tools/list: p50 {statistics.median(lists) * 1e3:.2f} ms, p95 {pct(lists, 0.95) * 1e3:.2f} ms over {a.calls} calls")
    print(f"generate_ab_script: p50 {statistics.median(gens) * 1e3:.1f} ms, p95 {pct(gens, 0.95) * 1e3:.1f} ms over {a.calls} calls "
          f"(includes the python3 compile check; a bare `python3 -c pass` takes {statistics.median(py) * 1e3:.1f} ms here)")


if __name__ == "__main__":
    main()
