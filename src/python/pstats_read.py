# abbench helper: read a cProfile output for one target function.
# stdin: {"profile": path, "root": dir, "target_file": path, "target_name": co_name,
#         "target_line": first line|null, "test_file": path|null, "test_name": name|null}
# stdout: calls, cumulative and self seconds, the time it is a share of
# (which basis, said), its rank among the repository's own functions, top 5.
import json
import os
import pstats
import sys

req = json.load(sys.stdin)
root = os.path.realpath(req["root"])
stats = pstats.Stats(req["profile"]).stats


def real(path):
    return os.path.realpath(os.path.join(root, path))


def own(path):
    """A file of the repository itself: not its tests, not a virtualenv.
    Built-ins are keyed "~" and frozen modules "<frozen ...>": never ours."""
    if path == "~" or path.startswith("<"):
        return False
    p = real(path)
    if not p.startswith(root + os.sep):
        return False
    rel = p[len(root) + 1:]
    parts = rel.split(os.sep)
    base = parts[-1]
    return not (
        "site-packages" in parts or parts[0] in (".venv", "venv", ".tox")
        or "tests" in parts or "test" in parts
        or base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py"
    )


target_file = os.path.realpath(req["target_file"])
matches = [(k, v) for k, v in stats.items() if real(k[0]) == target_file and k[2] == req["target_name"]]
if len(matches) > 1 and req.get("target_line") is not None:
    matches.sort(key=lambda kv: abs(kv[0][1] - req["target_line"]))
    matches = matches[:1]
cc = sum(v[0] for _, v in matches)
nc = sum(v[1] for _, v in matches)
tt = sum(v[2] for _, v in matches)
ct = sum(v[3] for _, v in matches)

total = sum(v[2] for v in stats.values())
basis, basis_s = "total profiled time", total
if req.get("test_file"):
    test_file = os.path.realpath(req["test_file"])
    tests = [(k, v) for k, v in stats.items() if real(k[0]) == test_file and k[2].startswith("test")]
    if req.get("test_name"):
        tests = [(k, v) for k, v in tests if k[2] == req["test_name"]]
    if tests:
        basis_s = sum(v[3] for _, v in tests)
        names = sorted({k[2] for k, _ in tests})
        basis = ("test function " if len(names) == 1 else "test functions ") + ", ".join(names)

ranked = sorted(((v[3], k) for k, v in stats.items() if own(k[0])), reverse=True)
rank = None
for i, (_, k) in enumerate(ranked, 1):
    if matches and k == matches[0][0]:
        rank = i
        break
print(json.dumps({
    "calls": nc,
    "primitive_calls": cc,
    "cumulative_s": ct,
    "self_s": tt,
    "total_s": total,
    "basis": basis,
    "basis_s": basis_s,
    "share": (ct / basis_s) if basis_s > 0 else 0.0,
    "rank": rank,
    "repo_functions": len(ranked),
    "top": [{"function": f"{os.path.relpath(real(k[0]), root)}:{k[1]}({k[2]})", "cumulative_s": c}
            for c, k in ranked[:5]],
}))
