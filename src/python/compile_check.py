# abbench helper: compile-check the parts of an A/B script without writing
# anything (py_compile would leave a .pyc in __pycache__).
# stdin: {"parts": [{"part": name, "source": text, "header_lines": n}], "script": text}
# stdout: {"ok": true, "python": version} or the first error, with its line
# counted within the part that holds it.
import json
import sys

request = json.load(sys.stdin)
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
print(json.dumps(answer))
