# abbench helper: what a change did to Python files, read with `ast`.
# stdin: {"files": [{"path": p, "old": src|null, "new": src|null}],
#         "locate": [{"key": k, "source": src|null, "qualname": "Class.method"}]}
# stdout: {"files": [{"path", "imports_added", "changed_functions": [{"name", "before", "after"}],
#                     "parse_error"}], "locate": {k: first_line|null}}
# Complexity is McCabe-style: 1 + branch points (if/elif, loops, except,
# conditional expressions, comprehension clauses, extra boolean operands,
# match cases, assert). Nested functions and classes count on their own.
import ast
import json
import sys

BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.IfExp, ast.ExceptHandler, ast.Assert)
FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def complexity(fn):
    count = 1
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, FUNCS + (ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, BRANCHES):
            count += 1
        elif isinstance(node, ast.comprehension):
            count += 1 + len(node.ifs)
        elif isinstance(node, ast.BoolOp):
            count += len(node.values) - 1
        elif type(node).__name__ == "match_case":
            count += 1
        stack.extend(ast.iter_child_nodes(node))
    return count


def functions(tree):
    """{qualname: (node, complexity)} for every def, nested ones included."""
    found = {}

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, FUNCS):
                name = prefix + child.name
                found[name] = (child, complexity(child))
                walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                walk(child, prefix + child.name + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return found


def imports(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def parse(source):
    if source is None:
        return ast.Module(body=[], type_ignores=[]), None
    try:
        return ast.parse(source), None
    except SyntaxError as e:
        return ast.Module(body=[], type_ignores=[]), f"line {e.lineno}: {e.msg}"


def first_line(node):
    return min([node.lineno] + [d.lineno for d in node.decorator_list])


request = json.load(sys.stdin)
answer = {"files": [], "locate": {}}
for f in request.get("files", []):
    old, old_err = parse(f.get("old"))
    new, new_err = parse(f.get("new"))
    before, after = functions(old), functions(new)
    changed = []
    for name, (node, c) in after.items():
        prev = before.get(name)
        if prev is None or ast.dump(prev[0]) != ast.dump(node):
            changed.append({"name": name, "before": prev[1] if prev else None, "after": c})
    for name, (node, c) in before.items():
        if name not in after:
            changed.append({"name": name, "before": c, "after": None})
    answer["files"].append({
        "path": f["path"],
        "imports_added": sorted(imports(new) - imports(old)),
        "changed_functions": changed,
        "parse_error": new_err,
    })
for item in request.get("locate", []):
    tree, _ = parse(item.get("source"))
    hit = functions(tree).get(item["qualname"])
    answer["locate"][item["key"]] = first_line(hit[0]) if hit else None
print(json.dumps(answer))
