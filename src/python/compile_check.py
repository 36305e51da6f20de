# abbench helper: compile-check the parts of an A/B script without writing
# anything (py_compile would leave a .pyc in __pycache__).
# request: {"parts": [{"part": name, "source": text, "header_lines": n}], "script": text}
# answer: {"ok": true, "python": version} or the first error, with its line
# counted within the part that holds it.
# One request on stdin, or with --serve one request per line, answered
# per line, until stdin closes (the server keeps one such worker alive).
import json
import sys


def check(request):
    answer = {"ok": True, "python": sys.version.split()[0]}
    checks = [(p["part"], p["source"], p["header_lines"]) for p in request["parts"]]
    checks.append(("script", request["script"], 0))
    for part, source, header_lines in checks:
        try:
            compile(source, "<" + part + ">", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as e:
            line = getattr(e, "lineno", None)
            answer.update(
                ok=False,
                part=part,
                line=None if line is None else max(1, line - header_lines),
                column=getattr(e, "offset", None),
                message=getattr(e, "msg", None) or str(e),
                text=(getattr(e, "text", None) or "").rstrip("\n"),
            )
            break
    return answer


if sys.argv[1:] == ["--serve"]:
    for line in sys.stdin:
        print(json.dumps(check(json.loads(line))), flush=True)
else:
    print(json.dumps(check(json.load(sys.stdin))))
