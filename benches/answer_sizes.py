#!/usr/bin/env python3
"""What an agent pays to read abbench: the size of every answer of one
optimization loop on a small repository, over MCP stdio as Claude Code
sees it (it gives the model JSON.stringify(structuredContent) when a
result has one), and of `initialize` and `tools/list`.

    cargo build --release
    python3 benches/answer_sizes.py [--json FILE]

The loop: generate_ab_script (revision form), run_ab_benchmark,
check_keep_conditions (real unittest suite and profile), run_e2e_benchmark,
check_keep_conditions with the e2e run, benchmark_history (limit 5).
Tokens are counted with the cl100k_base encoding when `bpe_openai` is
importable (`pip install bpe-openai==0.1.4`: it carries its vocabulary, no
download), else estimated as bytes / 4 and said so. Installs nothing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ABBENCH = os.environ.get("ABBENCH_BIN") or os.path.join(ROOT, "target", "release", "abbench")

TEXT = '''def unique_words(words):
    """The distinct words, in the order they first appear."""
    out = []
    for w in words:
        if w not in out:
            out.append(w)
    return out
'''
FAST = '''def unique_words(words):
    """The distinct words, in the order they first appear."""
    return list(dict.fromkeys(words))
'''
TEST = '''import unittest

from text import unique_words


class TextTest(unittest.TestCase):
    def test_report(self):
        words = [f"w{i % 300}" for i in range(6000)]
        self.assertEqual(len(unique_words(words)), 300)
'''
WORK = '''from text import unique_words

words = [f"w{i % 400}" for i in range(20000)]
print(len(unique_words(words)))
'''


def tokens_counter():
    try:
        import bpe_openai

        enc = bpe_openai.get_encoding("cl100k_base")
        return (lambda s: len(enc.encode(s))), "cl100k_base (bpe_openai)"
    except ImportError:
        return (lambda s: (len(s.encode()) + 3) // 4), "estimated as bytes / 4 (bpe_openai not installed)"


class Client:
    def __init__(self, data):
        env = dict(os.environ, ABBENCH_DATA_DIR=data)
        self.p = subprocess.Popen([ABBENCH, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1, env=env)
        self.n = 0

    def request(self, method, params):
        self.n += 1
        self.p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method, "params": params}) + "\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            msg = json.loads(line)
            if msg.get("id") == self.n:
                return line, msg

    def call(self, tool, args):
        line, msg = self.request("tools/call", {"name": tool, "arguments": args})
        result = msg["result"]
        if result.get("isError"):
            raise SystemExit(f"{tool} failed: {result['content'][0]['text']}")
        return result

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def git(root, *args):
    subprocess.run(["git", "-C", root, "-c", "user.name=b", "-c", "user.email=b@example.invalid", *args],
                   check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    count, how = tokens_counter()
    tmp = tempfile.mkdtemp(prefix="abbench-sizes-")
    repo = os.path.join(tmp, "repo")
    os.makedirs(repo)
    for name, text in [("text.py", TEXT), ("test_text.py", TEST), ("work.py", WORK)]:
        with open(os.path.join(repo, name), "w") as f:
            f.write(text)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    with open(os.path.join(repo, "text.py"), "w") as f:
        f.write(FAST)
    c = Client(os.path.join(tmp, "data"))
    init_line, _ = c.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                            "clientInfo": {"name": "sizes", "version": "0"}})
    c.p.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
    c.p.stdin.flush()
    list_line, listed = c.request("tools/list", {})
    model = sum(len(json.dumps({k: t.get(k) for k in ("name", "title", "description", "inputSchema")},
                               separators=(",", ":"))) for t in listed["result"]["tools"])
    rows = []

    def record(step, result):
        structured = json.dumps(result.get("structuredContent"), separators=(",", ":"), ensure_ascii=False)
        text = "\n".join(b.get("text", "") for b in result.get("content", []))
        rows.append({"step": step, "bytes": len(structured.encode()), "tokens": count(structured),
                     "text_bytes": len(text.encode())})
        return result["structuredContent"]

    g = record("generate_ab_script", c.call("generate_ab_script", {
        "name": "unique", "domain": "cpu", "target": "text.py::unique_words",
        "setup": "WORDS = [f'w{i % 400}' for i in range(3000)]", "call": "return unique_words(WORDS)",
        "cwd": repo, "dir": tmp}))
    r = record("run_ab_benchmark", c.call("run_ab_benchmark", {"script": g["path"], "cwd": repo}))
    keep = {"run_id": r["run_id"], "repo": repo, "test_command": "python3 -m unittest -q",
            "target_test": "test_text.py::TextTest::test_report"}
    record("check_keep_conditions", c.call("check_keep_conditions", keep))
    e = record("run_e2e_benchmark", c.call("run_e2e_benchmark", {
        "repo": repo, "command": "python3 work.py", "runner": "python3",
        "target_functions": ["text.py::unique_words"], "micro_run_id": r["run_id"]}))
    record("check_keep_conditions (e2e)", c.call("check_keep_conditions", dict(keep, e2e_run_id=e["run_id"])))
    record("benchmark_history (5)", c.call("benchmark_history", {"limit": 5}))
    c.close()

    total_b = sum(x["bytes"] for x in rows)
    total_t = sum(x["tokens"] for x in rows)
    per_micro = sum(x["tokens"] for x in rows[:3])
    per_e2e = sum(x["tokens"] for x in rows[3:5])
    print(f"tokens: {how}\n")
    print("| answer | bytes (structuredContent, compact JSON) | tokens | text content bytes |")
    print("|---|---|---|---|")
    for x in rows:
        print(f"| {x['step']} | {x['bytes']} | {x['tokens']} | {x['text_bytes']} |")
    print(f"| **the loop** | **{total_b}** | **{total_t}** | |")
    print(f"\ninitialize reply: {len(init_line.encode())} bytes; tools/list: {len(list_line.encode())} bytes on the wire, "
          f"{model} bytes the model reads (name, title, description, inputSchema)")
    twenty = 20 * per_micro + 5 * per_e2e
    print(f"20 iterations of generate + run + keep ({per_micro} tokens each), 5 of them also e2e + keep "
          f"({per_e2e} tokens each): {twenty} tokens")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "initialize": len(init_line.encode()), "tools_list": len(list_line.encode()),
                       "model_facing": model, "twenty": twenty, "tokens": how}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
