import importlib
import importlib.abc
import importlib.machinery


class _Embedded(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one variant's embedded source of each target module while that
    variant loads, under the module's own name, package and work-tree path
    (so its imports, relative or absolute, and `__file__` resolve as in
    production). Tracebacks name the file and the revision."""

    def __init__(self, label, sources):
        self.label = label
        self.sources = sources

    def find_spec(self, fullname, path=None, target=None):
        entry = self.sources.get(fullname)
        if entry is None:
            return None
        file, is_package, _ = entry
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=file, is_package=is_package)
        spec.has_location = True
        if is_package:
            spec.submodule_search_locations = [file.rpartition("/")[0]]
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        import linecache

        file, _, source = self.sources[module.__name__]
        filename = f"{file} @ {self.label}"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(_compiled(source, filename), module.__dict__)


def _import_work_tree(names):
    """The work tree's target modules, imported the normal way (they stay in sys.modules)."""
    return {name: importlib.import_module(name) for name in names}


def _load_embedded(label, sources):
    """Fresh modules from `sources` ({name: (work-tree path, is_package, source)}).
    While they load, importing any target module gets this variant's copy;
    afterwards sys.modules (and the parent packages' attributes) are as they
    were, so every other import keeps seeing the work tree's modules."""
    finder = _Embedded(label, sources)
    saved = {name: sys.modules.pop(name) for name in sources if name in sys.modules}
    sys.meta_path.insert(0, finder)
    loaded = {}
    try:
        for name in sources:
            loaded[name] = importlib.import_module(name)
    finally:
        sys.meta_path.remove(finder)
        for name in sources:
            mine = sys.modules.pop(name, None)
            parent, _, child = name.rpartition(".")
            parent_module = sys.modules.get(parent) if parent else None
            if parent_module is not None and mine is not None and getattr(parent_module, child, None) is mine:
                if name in saved:
                    setattr(parent_module, child, saved[name])
                else:
                    delattr(parent_module, child)
        sys.modules.update(saved)
    return loaded


def _variant_modules(variant, load):
    """`load()`; under `check`, a failure is reported (file, line, error) instead of raised."""
    try:
        return load()
    except BaseException as error:  # SystemExit in a module is a failure too
        if sys.argv[1:2] != ["check"]:
            raise
        import traceback

        frames = traceback.extract_tb(error.__traceback__)
        # The innermost frame in the project (or in the embedded source), not in importlib.
        frame = next((f for f in reversed(frames) if "importlib" not in f.filename
                      and f.filename != __file__), frames[-1] if frames else None)
        _check_report({"ok": False, "variant": variant, "kind": "import",
                       "message": "".join(traceback.format_exception_only(type(error), error)).strip(),
                       "file": frame.filename if frame else None,
                       "line": frame.lineno if frame else None})


def _resolve(modules, module, qualname):
    obj = modules[module]
    for attr in qualname.split("."):
        obj = getattr(obj, attr)
    return obj


def _shape(obj):
    """What a definition does, without where it stands: a function's code
    (and its nested code) with line numbers cleared, its defaults; a class's
    own functions. Formatting and comments change nothing here."""
    while hasattr(obj, "__wrapped__"):  # functools.wraps decorators
        obj = obj.__wrapped__
    code = getattr(obj, "__code__", None)
    if code is not None:
        return (_bare(code), getattr(obj, "__defaults__", None), getattr(obj, "__kwdefaults__", None))
    if isinstance(obj, type):
        return tuple((k, _shape(v)) for k, v in vars(obj).items() if callable(v) or hasattr(v, "__func__"))
    return repr(obj)


def _bare(code):
    consts = tuple(_bare(c) if hasattr(c, "co_code") else c for c in code.co_consts)
    return code.replace(co_firstlineno=1, co_linetable=b"", co_consts=consts)


def _line(obj):
    """First line of a function's definition (decorators included), or None."""
    while hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    code = getattr(obj, "__code__", None)
    return code.co_firstlineno if code is not None else None


def _check(variants, targets):
    """`python script.py check`: every target resolves in both variants, and
    whether its own definition differs (compiled code, so formatting and
    comments aside). One `ABBENCH_CHECK {json}` line; setup does not run."""
    found = []
    for module, file, qualname in targets:
        entry = {"target": f"{file}::{qualname}"}
        shapes = []
        for variant, modules in variants.items():
            try:
                obj = _resolve(modules, module, qualname)
            except AttributeError as error:
                names = sorted(n for n in vars(modules[module]) if not n.startswith("__"))
                _check_report({"ok": False, "variant": variant, "kind": "missing",
                               "target": entry["target"], "file": file,
                               "message": str(error), "names": names[:40]})
            entry[variant + "_line"] = _line(obj)
            shapes.append(_shape(obj))
        entry["same_definition"] = shapes[0] == shapes[1]
        found.append(entry)
    _check_report({"ok": True, "targets": found})


def _check_report(answer):
    import json

    print("ABBENCH_CHECK " + json.dumps(answer), flush=True)
    sys.exit(0)
