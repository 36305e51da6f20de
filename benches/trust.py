#!/usr/bin/env python3
"""Trust benchmark: verdict accuracy, time to a verdict and server overhead of
abbench, side by side with hyperfine and pyperf on the same machine.

    cargo build --release
    python3 benches/trust.py --quick          # under 5 minutes
    python3 benches/trust.py                  # every tool at the planned repetitions: ~2.5 h
    python3 benches/trust.py --pyperf-reps 20 # the campaign in BENCHMARKS.md: ~2 h
    python3 benches/trust.py --cases 2x,5x --reps 3 --tools abbench,hyperfine
    python3 benches/trust.py --report target/trust-<time>.jsonl   # tables again
    python3 benches/trust.py --cases "text join,async batch" --tools abbench

Every result is appended to a JSON-lines record as it is measured
(`--save`, default target/trust-<time>.jsonl), so a campaign that is cut
short still reports what it measured. Repetitions go round-robin over the
cases, and the tools take turns within a repetition, so drift of the machine
is spread over all of them.

Needs (installs nothing itself): a Python with pyperf to run this harness
(`python3 -m pip install pyperf==2.10.0`, in a venv of your own) and
hyperfine (Debian: `apt-get install hyperfine`). abbench provisions memray
for its memory runs itself.

Workloads: (1) the constant-cost loop: A and B call the same pure-Python
loop, B with a fixed fraction of A's iterations, tuned until a long
interleaved in-process reference run measures the nominal speedup; (2) the
realistic workloads of benches/workloads.py (string processing,
containers, recursion, asyncio; null changes, 1.4-1.5x and clear gains),
whose reference is the same kind of run. abbench runs the script
generated with default settings; hyperfine a copy with fixed work per
process (number = 10, repeat = 3: a calibrated script runs for the same time
whatever the speed, which whole-process timing cannot see through); pyperf
the same statements. The peers are judged by the rule their users apply: "the
difference is significant and the point estimate is above 20 %". Memory:
fixed allocations of 0-200 MiB, and a real __slots__ change whose saving is
compared with tracemalloc's own figure for the same script.
"""
import argparse
from collections import Counter
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads  # noqa: E402  (benches/workloads.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# ABBENCH_BIN: another build to measure (e.g. the previous commit's, for a before/after).
ABBENCH = os.environ.get("ABBENCH_BIN") or os.path.join(ROOT, "target", "release", "abbench")
# Every iteration costs the same (all ints stay below 2**30), so the time of
# work(n) is proportional to n and B's fraction of the iterations is the
# true ratio up to the fixed cost of a call; `i * i` would grow into
# multi-digit ints and make the time superlinear in n.
WORK = "def work(n):\n    t = 0\n    for i in range(n):\n        t += i & 255\n    return t"
# name, fraction of A's iterations that B runs, (full reps, quick reps)
CASES = [
    ("A/A", 1.0, (50, 3)),
    ("B=0.95A", 0.95, (20, 2)),
    ("gain 15%", 0.87, (50, 2)),
    ("gain 20%", 0.833, (50, 2)),
    ("gain 30%", 0.77, (20, 2)),
    ("2x", 0.5, (20, 3)),
    ("5x", 0.2, (20, 2)),
]
# The realistic workloads: 20 repetitions each (quick: 2).
REAL_REPS = (20, 2)
# pyperf's default run costs ~30 s a repetition: full mode runs it 10 times
# where its estimate is the yardstick (A/A, 2x, 5x), 5 times elsewhere;
# quick mode once, on these only.
PYPERF_FULL = {"A/A": 10, "2x": 10, "5x": 10}
PYPERF_QUICK = {"A/A", "gain 20%", "2x", "text join"}
HYPERFINE_FULL = 10
MEMORY = [("mem A/A", 0), ("saves 10 MiB", 10), ("saves 50 MiB", 50), ("saves 200 MiB", 200)]


def need(ok, what):
    if not ok:
        sys.exit(f"trust.py needs {what}")


class Server:
    """abbench serve, spoken to as an agent would (JSON-RPC over stdio)."""

    def __init__(self, data_dir):
        env = dict(os.environ, ABBENCH_DATA_DIR=data_dir)
        t = time.perf_counter()
        self.p = subprocess.Popen([ABBENCH, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1, env=env)
        self.n = 0
        self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                    "clientInfo": {"name": "trust", "version": "0"}})
        self.cold_start_s = time.perf_counter() - t
        self.p.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        self.p.stdin.flush()

    def request(self, method, params):
        self.n += 1
        self.p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method, "params": params}) + "\n")
        self.p.stdin.flush()
        while True:
            msg = json.loads(self.p.stdout.readline())
            if msg.get("id") == self.n:
                return msg

    def call(self, tool, args):
        r = self.request("tools/call", {"name": tool, "arguments": args})["result"]
        if r.get("isError"):
            raise RuntimeError(r["content"][0]["text"])
        return r["structuredContent"]

    def peak_rss_mib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def welch_p(a, b):
    """Two-sided p-value of Welch's t-test (normal approximation for df > 30)."""
    ma, mb = statistics.mean(a), statistics.mean(b)
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0:
        return 0.0 if ma != mb else 1.0
    t = abs(ma - mb) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    # Student t survival via the regularized incomplete beta (continued fraction).
    x = df / (df + t * t)
    return _betainc(df / 2, 0.5, x)


def _betainc(a, b, x):
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(math.log(x) * a + math.log(1 - x) * b + lbeta) / a
    f, c, d = 1.0, 1.0, 0.0
    for i in range(200):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2 == 0:
            num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > 1e-30 else 1e-30)
        c = 1.0 + num / (c if abs(c) > 1e-30 else 1e-30)
        f *= c * d
        if abs(c * d - 1.0) < 1e-12:
            break
    return min(1.0, max(0.0, front * (f - 1.0)))


def run_hyperfine(script, tmp):
    out = os.path.join(tmp, "hyperfine.json")
    t = time.perf_counter()
    subprocess.run(["hyperfine", "-N", "--style", "none", "--export-json", out,
                    f"python3 {script} a", f"python3 {script} b"], check=True, capture_output=True)
    wall = time.perf_counter() - t
    a, b = (r["times"] for r in json.load(open(out))["results"])
    ratio = statistics.mean(a) / statistics.mean(b)
    return {"above": welch_p(a, b) < 0.05 and ratio > 1.2, "wall": wall, "ratio": ratio}


def run_pyperf(codes, tmp):
    """codes: [(setup, statement)] for A and B."""
    files = []
    t = time.perf_counter()
    for v, (setup, stmt) in zip("ab", codes):
        f = os.path.join(tmp, f"pyperf_{v}.json")
        if os.path.exists(f):
            os.remove(f)
        subprocess.run([sys.executable, "-m", "pyperf", "timeit", "--quiet", "--name", "work", "-o", f,
                        "-s", setup, stmt], check=True, capture_output=True)
        files.append(f)
    cmp = subprocess.run([sys.executable, "-m", "pyperf", "compare_to", *files],
                         check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t
    import pyperf
    mean_a, mean_b = (pyperf.Benchmark.load(f).mean() for f in files)
    ratio = mean_a / mean_b
    # compare_to hides a comparison it finds not significant.
    significant = "not significant" not in cmp.lower()
    return {"above": significant and ratio > 1.2, "wall": wall, "ratio": ratio}


def reference_ratio(n_a, n_b, seconds=3.0):
    """Median per-call ratio, interleaved in one process for `seconds`."""
    code = (f"{WORK}\nimport time, statistics\nr = []\nend = time.time() + {seconds}\n"
            f"while time.time() < end:\n"
            f"    t = time.perf_counter(); work({n_a}); a = time.perf_counter() - t\n"
            f"    t = time.perf_counter(); work({n_b}); b = time.perf_counter() - t\n"
            f"    r.append(a / b)\nprint(statistics.median(r))")
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


REFERENCE_S = 3.0  # seconds of each final reference run (quick mode: 1.5)


def tuned_n_b(n, nominal):
    """B's iteration count whose measured speedup is the nominal one: the
    fixed cost of a call makes work(n/r) a little more than r times faster."""
    n_b = max(1, round(n / nominal))
    if nominal == 1.0:
        return n_b, reference_ratio(n, n_b, REFERENCE_S)
    for _ in range(2):
        n_b = max(1, round(n_b * reference_ratio(n, n_b, REFERENCE_S / 1.5) / nominal))
    return n_b, reference_ratio(n, n_b, REFERENCE_S)


def calibrate_n(target_s=0.003):
    code = (f"{WORK}\nimport time\nn = 1000\nwhile True:\n    t = time.perf_counter(); work(n)\n"
            f"    d = time.perf_counter() - t\n    if d > 0.01: break\n    n *= 2\nprint(int(n * {target_s} / d))")
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def p95(xs):
    return sorted(xs)[max(0, int(0.95 * len(xs)) - 1)] if xs else float("nan")


def spread(xs):
    """The 10th and 90th percentiles (nearest rank): how far one verdict's
    estimate can stray from the truth."""
    xs = sorted(xs)
    lo, hi = xs[int(0.1 * (len(xs) - 1))], xs[round(0.9 * (len(xs) - 1))]
    return f"{lo:.3f}–{hi:.3f}"


class Log:
    """Every result goes to a JSON-lines file as soon as it exists, so a
    campaign cut short still reports what it measured (`--report FILE`)."""

    def __init__(self, path):
        self.path, self.records, self.started = path, [], time.time()
        self.f = open(path, "w")

    def add(self, **record):
        record["t"] = round(time.time() - self.started, 1)
        self.records.append(record)
        self.f.write(json.dumps(record) + "\n")
        self.f.flush()
        if record["kind"] in ("cpu", "memory"):
            what = record.get("verdict") or ("above" if record["above"] else "not above")
            print(f"  [{record['t'] / 60:5.1f} min] {record['case']} {record.get('tool', 'abbench')} "
                  f"rep {record['rep'] + 1}: {what}, {record['wall']:.1f} s", file=sys.stderr)


def campaign(a, tools, log):
    """Runs every tool on every case, repetitions round-robin over the cases
    (and the tools in turn within a repetition) so that slow drift of the
    machine spreads over all of them instead of landing on one case."""
    tmp = tempfile.mkdtemp(prefix="abbench-trust-")
    server = Server(os.path.join(tmp, "ledger"))
    n = calibrate_n()
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    hyperfine = (subprocess.run(["hyperfine", "--version"], capture_output=True, text=True).stdout.split()[-1]
                 if shutil.which("hyperfine") else "-")
    log.add(kind="meta", date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), cores=os.cpu_count(), cpu=cpu,
            python=platform.python_version(), hyperfine=hyperfine, mode="quick" if a.quick else "full",
            n=n, argv=sys.argv[1:])

    # Memory first: short, and its A/A case is one of the goals.
    wanted = set(a.cases.split(",")) if a.cases else None
    for name, mib in MEMORY:
        if wanted and name not in wanted:
            continue
        # Both return None: the same result, whatever they allocate.
        code_a = f"block = bytearray({mib} * 1048576)" if mib else "pass"
        script = server.call("generate_ab_script", {"name": f"trust_mem{mib}", "domain": "memory",
                                                    "code_a": code_a, "code_b": "pass", "dir": tmp})["path"]
        mreps = a.memory_reps if a.memory_reps is not None else (1 if a.quick else (50 if mib == 0 else 5))
        for rep in range(mreps):
            t = time.perf_counter()
            r = server.call("run_ab_benchmark", {"script": script, "cwd": tmp})
            log.add(kind="memory", case=name, mib=mib, rep=rep, wall=time.perf_counter() - t,
                    saved=r["saved_bytes"]["estimate"], verdict=r["verdict"], pairs=r["pairs"])

    # The real memory change, against tracemalloc's own figure for the same script.
    if not wanted or "slots" in wanted:
        name, domain, setup, code_a, code_b = workloads.SLOTS
        script = server.call("generate_ab_script", {"name": "trust_slots", "domain": domain, "setup": setup,
                                                    "code_a": code_a, "code_b": code_b, "dir": tmp})["path"]
        traced = [json.loads(subprocess.run(["python3", script, v], capture_output=True, text=True, check=True)
                             .stdout.split("ABBENCH ")[-1])["value"] for v in "ab"]
        log.add(kind="case", case="slots", tracemalloc_saved=traced[0] - traced[1], tracemalloc_a=traced[0])
        for rep in range(a.memory_reps if a.memory_reps is not None else (1 if a.quick else 10)):
            t = time.perf_counter()
            r = server.call("run_ab_benchmark", {"script": script, "cwd": tmp})
            log.add(kind="memory", case="slots", mib=None, rep=rep, wall=time.perf_counter() - t,
                    saved=r["saved_bytes"]["estimate"], saved_fraction=r["saved_fraction"]["estimate"],
                    process_fraction=(r.get("process_peak") or {}).get("saved_fraction", {}).get("estimate"),
                    verdict=r["verdict"], pairs=r["pairs"], measured_by=r["measured_by"])

    cases = []
    def add_case(name, domain, setup, code_a, code_b, pyperf_codes, true, reps, **facts):
        args = {"name": "trust_" + re.sub(r"\W", "", name), "domain": domain, "setup": setup,
                "code_a": code_a, "code_b": code_b, "dir": tmp}
        script = server.call("generate_ab_script", args)["path"]
        # hyperfine times whole processes: a calibrated script runs for the
        # same time whatever the speed, so it gets a fixed-work copy.
        fixed = server.call("generate_ab_script", dict(args, name=args["name"] + "_fixed",
                                                       number=10, repeat=3))["path"]
        if a.quick:
            peers = {"hyperfine": 1, "pyperf": 1 if name in PYPERF_QUICK else 0}
        else:
            peers = {"hyperfine": a.hyperfine_reps or HYPERFINE_FULL, "pyperf": a.pyperf_reps or PYPERF_FULL.get(name, 5)}
        planned = {"abbench": reps, **{t: min(reps, k) for t, k in peers.items()}}
        planned = {t: k for t, k in planned.items() if t in tools}
        log.add(kind="case", case=name, true=true, planned=planned, **facts)
        cases.append((name, (script, fixed), pyperf_codes, planned))

    for name, frac, (full, quick) in CASES:
        if wanted and name not in wanted:
            continue
        n_b, true = tuned_n_b(n, 1 / frac)
        # work(n) and work(n_b) return different sums: the loop's result is
        # not what is compared, its cost is, so both variants drop it.
        add_case(name, "cpu", WORK, f"work({n})", f"work({n_b})",
                 [(WORK, f"work({n})"), (WORK, f"work({n_b})")], true, a.reps or (quick if a.quick else full),
                 nominal=1 / frac, n_a=n, n_b=n_b, expected="loop")
    for name, domain, setup, code_a, code_b, expected in workloads.REAL:
        if wanted and name not in wanted:
            continue
        true = workloads.reference(domain, setup, code_a, code_b, REFERENCE_S)
        add_case(name, domain, setup, code_a, code_b,
                 [workloads.pyperf_code(domain, setup, code_a), workloads.pyperf_code(domain, setup, code_b)],
                 true, a.reps or (REAL_REPS[1] if a.quick else REAL_REPS[0]), nominal=None, expected=expected)

    for rep in range(max((max(p.values()) for *_, p in cases), default=0)):
        for name, (script, fixed), pyperf_codes, planned in cases:
            for tool in tools:
                if rep >= planned[tool]:
                    continue
                if tool == "abbench":
                    t = time.perf_counter()
                    r = server.call("run_ab_benchmark", {"script": script, "cwd": tmp})
                    rec = {"above": r["verdict"] == "above_threshold", "wall": time.perf_counter() - t,
                           "ratio": r["speedup"]["estimate"], "pairs": r["pairs"], "verdict": r["verdict"],
                           "design": r["design"]["isolation"], "process_log_sd": r["design"].get("process_log_sd"),
                           "rounds": [c["rounds"] for c in r["design"]["rounds"]],
                           "warnings": r["warnings"]}
                elif tool == "hyperfine":
                    rec = run_hyperfine(fixed, tmp)
                else:
                    rec = run_pyperf(pyperf_codes, tmp)
                log.add(kind="cpu", case=name, tool=tool, rep=rep, **rec)

    # Server overhead.
    colds = []
    for _ in range(20 if a.quick else 50):
        s = Server(os.path.join(tmp, "cold"))
        colds.append(s.cold_start_s)
        s.close()
    lists, gens = [], []
    for i in range(200):
        t = time.perf_counter()
        server.request("tools/list", {})
        lists.append(time.perf_counter() - t)
    for i in range(200):
        t = time.perf_counter()
        server.call("generate_ab_script", {"name": f"g{i}", "domain": "cpu", "setup": "data = list(range(100))",
                                           "code_a": "return sum(x for x in data)", "code_b": "return sum(data)",
                                           "dir": tmp})
        gens.append(time.perf_counter() - t)
    bare = []
    for _ in range(30):
        t = time.perf_counter()
        subprocess.run(["python3", "-S", "-c", "pass"])
        bare.append(time.perf_counter() - t)
    log.add(kind="overhead", cold=colds, tools_list=lists, generate=gens, bare_python=bare,
            peak_rss_mib=server.peak_rss_mib())
    server.close()
    log.add(kind="end")
    if a.keep:
        print(f"(scripts and ledger kept in {tmp})", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def report(records):
    """The Markdown tables of BENCHMARKS.md, from a campaign's records."""
    meta = next(r for r in records if r["kind"] == "meta")
    print(f"Measured {meta['date']} on {meta['cores']} cores, {meta['cpu']}, Python {meta['python']}, "
          f"hyperfine {meta['hyperfine']}; mode {meta['mode']}; arguments {' '.join(meta['argv']) or '(none)'}; "
          f"loop cases: one call of A = work({meta['n']}) ≈ 3 ms.\n")
    cases = [r for r in records if r["kind"] == "case"]
    cpu = [r for r in records if r["kind"] == "cpu"]
    tools = [t for t in ("abbench", "hyperfine", "pyperf") if any(r["tool"] == t for r in cpu)]

    def of(case, tool):
        return [r for r in cpu if r["case"] == case and r["tool"] == tool]

    if cases:
        cases = [c for c in cases if "true" in c]
        print("| case | true speedup (reference) | tool | reps | declared above 20 % | median wall s to verdict "
              "| median pairs | median estimate | estimates p10–p90 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for c in cases:
            for tool in tools:
                rs = of(c["case"], tool)
                if not rs:
                    continue
                pairs = f"{median([r['pairs'] for r in rs]):.0f}" if tool == "abbench" else "-"
                nominal = f" (nominal {c['nominal']:.3f})" if c.get("nominal") else f" ({c.get('expected', '')})"
                print(f"| {c['case']} | {c['true']:.3f}{nominal} | {tool} | {len(rs)} | "
                      f"{sum(r['above'] for r in rs)}/{len(rs)} | {median([r['wall'] for r in rs]):.1f} | {pairs} | "
                      f"{median([r['ratio'] for r in rs]):.3f} | {spread([r['ratio'] for r in rs])} |")
        if "pyperf" in tools and "abbench" in tools:
            print("\nabbench's median estimate against pyperf's (and against the reference):\n")
            print("| case | abbench | pyperf | abbench / pyperf | abbench / reference |")
            print("|---|---|---|---|---|")
            for c in cases:
                ab, pp = of(c["case"], "abbench"), of(c["case"], "pyperf")
                if ab and pp:
                    ma, mp = median([r["ratio"] for r in ab]), median([r["ratio"] for r in pp])
                    print(f"| {c['case']} | {ma:.3f} | {mp:.3f} | {ma / mp:.3f} | {ma / c['true']:.3f} |")
    peers = [t for t in tools if t != "abbench"]
    if "abbench" in tools and peers:
        print("\nRatio of median wall time to a verdict, abbench / peer:\n")
        print("| case | " + " | ".join(f"abbench / {t}" for t in peers) + " |")
        print("|---|" + "---|" * len(peers))
        for c in cases:
            ab = median([r["wall"] for r in of(c["case"], "abbench")])
            print(f"| {c['case']} | " + " | ".join(
                f"{ab / median([r['wall'] for r in of(c['case'], t)]):.2f}" if of(c["case"], t) else "-"
                for t in peers) + " |")
    if "abbench" in tools:
        counts = {c["case"]: dict(Counter(r["verdict"] for r in of(c["case"], "abbench"))) for c in cases}
        print("\nabbench verdicts per case: " + "; ".join(f"{k}: {v}" for k, v in counts.items() if v))
        sds = [r["process_log_sd"] for r in cpu if r["tool"] == "abbench" and r.get("process_log_sd") is not None]
        if sds:
            print(f"\nabbench paired runs: sd of the per-process ln(A/B) median {median(sds):.3f}, "
                  f"p90 {sorted(sds)[int(0.9 * (len(sds) - 1))]:.3f} over {len(sds)} runs.")

    memory = [r for r in records if r["kind"] == "memory"]
    if memory:
        print("\n| memory case | reps | verdicts | median saved_bytes | error vs truth | median wall s |")
        print("|---|---|---|---|---|---|")
        for name, mib in MEMORY:
            rs = [r for r in memory if r["case"] == name]
            if not rs:
                continue
            saved = median([r["saved"] for r in rs])
            verdicts = dict(Counter(r["verdict"] for r in rs))
            truth = mib * 1048576
            err = f"{(saved - truth) / truth * 100:+.2f} %" if truth else f"{saved:+.0f} bytes"
            print(f"| {name} | {len(rs)} | {verdicts} | {saved:,.0f} | {err} | {median([r['wall'] for r in rs]):.1f} |")
        slots = [r for r in memory if r["case"] == "slots"]
        facts = next((r for r in records if r["kind"] == "case" and r["case"] == "slots"), None)
        if slots and facts:
            saved = median([r["saved"] for r in slots])
            truth = facts["tracemalloc_saved"]
            fractions = median([r["saved_fraction"] for r in slots])
            whole = [r["process_fraction"] for r in slots if r.get("process_fraction") is not None]
            print(f"| __slots__ on 20,000 objects | {len(slots)} | {dict(Counter(r['verdict'] for r in slots))} | "
                  f"{saved:,.0f} | {(saved - truth) / truth * 100:+.2f} % vs tracemalloc's {truth:,} | "
                  f"{median([r['wall'] for r in slots]):.1f} |")
            print(f"\n__slots__: saving {fractions * 100:.1f} % of A's own footprint"
                  + (f", {median(whole) * 100:.1f} % of the whole process peak" if whole else "")
                  + f"; measured by: {slots[0]['measured_by']}")

    o = next((r for r in records if r["kind"] == "overhead"), None)
    if o:
        ms = lambda xs, d=1: f"p50 {median(xs) * 1e3:.{d}f} ms, p95 {p95(xs) * 1e3:.{d}f} ms"
        print(f"\nServer overhead: cold start to the initialize reply {ms(o['cold'])} ({len(o['cold'])} starts); "
              f"tools/list {ms(o['tools_list'], 2)}; generate_ab_script {ms(o['generate'])} "
              f"({len(o['generate'])} calls each, one session; a bare `python3 -S -c pass` takes "
              f"p50 {median(o['bare_python']) * 1e3:.1f} ms here); "
              f"server peak RSS over the whole campaign {o['peak_rss_mib']:.1f} MiB.")
    spent = Counter()
    for r in cpu + memory:
        spent[r.get("tool", "abbench")] += r["wall"]
    print("\nTime spent in each tool's runs: " + ", ".join(f"{t} {s / 60:.1f} min" for t, s in spent.items()) + ".")
    end = records[-1]["t"] / 60
    done = any(r["kind"] == "end" for r in records)
    print(f"\nCampaign wall time: {end:.1f} min" + ("." if done else " (cut short: the campaign did not finish)."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cases", help="comma-separated case names (default: all)")
    ap.add_argument("--reps", type=int, help="repetitions per case (default: by case and mode)")
    ap.add_argument("--hyperfine-reps", type=int, help="at most this many for hyperfine (default: as --reps; quick: 1)")
    ap.add_argument("--pyperf-reps", type=int, help="at most this many for pyperf (default: as --reps; quick: 1)")
    ap.add_argument("--tools", default="abbench,hyperfine,pyperf")
    ap.add_argument("--memory-reps", type=int, help="(default: 50 for the A/A case, 5 for the others; quick: 1)")
    ap.add_argument("--save", help="the JSON-lines record of the campaign (default: target/trust-<time>.jsonl)")
    ap.add_argument("--report", metavar="FILE", help="print the tables of a saved campaign and exit")
    ap.add_argument("--keep", action="store_true", help="keep the scripts and the campaign's ledger")
    a = ap.parse_args()
    if a.report:
        report([json.loads(line) for line in open(a.report)])
        return
    tools = a.tools.split(",")
    global REFERENCE_S
    if a.quick:
        REFERENCE_S = 1.5
    need(os.path.exists(ABBENCH), "the release binary: cargo build --release")
    if "hyperfine" in tools:
        need(shutil.which("hyperfine"), "hyperfine on PATH (apt-get install hyperfine)")
    if "pyperf" in tools:
        need(subprocess.run([sys.executable, "-c", "import pyperf"]).returncode == 0,
             "pyperf: python3 -m pip install pyperf==2.10.0")
    path = a.save or os.path.join(ROOT, "target", time.strftime("trust-%Y%m%d-%H%M%S.jsonl"))
    print(f"recording to {path}", file=sys.stderr)
    log = Log(path)
    try:
        campaign(a, tools, log)
    finally:
        report(log.records)


if __name__ == "__main__":
    main()
