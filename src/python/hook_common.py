"""abbench's sitecustomize hooks: this part (hook_common.py) is shared, the
hook's own part follows it (e2e_hook.py: run_e2e_benchmark's timers;
capture_hook.py: the calls inputs_from captures). Both wrap the targets in
their module's namespace as it is imported, and run the sitecustomize they
shadow first."""

import os
import sys


def _chain():
    """Runs the sitecustomize this file shadows (a virtualenv's own)."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


def _wrap(module, names, wrapper):
    """Replaces each target (qualname -> index) in the freshly executed
    module by wrapper(function, index); static and class methods stay so."""
    for qualname, i in names.items():
        *owners, last = qualname.split(".")
        holder = module
        for part in owners:
            holder = getattr(holder, part, None)
        if holder is None:
            continue
        raw = holder.__dict__.get(last) if isinstance(holder, type) else getattr(holder, last, None)
        if isinstance(raw, (staticmethod, classmethod)):
            setattr(holder, last, type(raw)(wrapper(raw.__func__, i)))
        elif callable(raw):
            setattr(holder, last, wrapper(raw, i))


def _wrap_on_import(wanted, wrapper):
    """A meta-path finder in front of the others: when a target file
    (realpath -> {qualname: index}) is imported, its targets are wrapped
    right after the module runs, before any importer can take a reference."""
    import importlib.abc

    class Loader(importlib.abc.Loader):
        def __init__(self, inner, names):
            self._inner, self._names = inner, names

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def create_module(self, spec):
            return self._inner.create_module(spec)

        def exec_module(self, module):
            self._inner.exec_module(module)
            _wrap(module, self._names, wrapper)

    class Finder:
        def find_spec(self, name, path=None, target=None):
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(name, path, target)
                if spec is not None:
                    break
            else:
                return None
            names = spec.origin and wanted.get(os.path.realpath(spec.origin))
            if names and hasattr(spec.loader, "exec_module"):
                spec.loader = Loader(spec.loader, names)
            return spec

    sys.meta_path.insert(0, Finder())
