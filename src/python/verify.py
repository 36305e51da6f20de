# abbench's equivalence check: before anything is timed, do A and B compute
# the same thing on the benchmark's own input?
#
# The A/B script is loaded without its __main__ block (so setup runs and
# bench_a / bench_b are defined, nothing is measured). Then A is called
# twice and B once, each on its own deep copy of the objects setup made,
# with `random` (and numpy's legacy global generator) seeded alike and
# functools caches cleared before each call, and three things are compared:
# the return values (generators and other iterators are drained first), the
# setup objects as each call left them (a variant that sorts its input in
# place is a difference), and what each call printed. A disagreeing with
# itself is `nondeterministic`; a difference only where A's result depends
# on its random draws is too (a fourth call, A with another seed, tells).
#
# Values are compared by kind: floats with math.isclose(rel_tol) and NaN
# equal to NaN; containers item by item (lists and tuples as multisets in
# "unordered" mode); numpy arrays by shape, dtype, then allclose; pandas
# objects with .equals, then pandas' own tolerant asserts; other objects by
# their own __eq__, else by their attributes (__dict__, __slots__); objects
# with neither cannot be compared, which is said, never guessed. Copying and
# comparing run under a time budget (SIGALRM); the calls themselves are
# bounded by the process timeout abbench sets.
#
# Answer: one line `ABBENCH_VERIFY {json}` on stdout:
#   {"status": "same" | "different" | "nondeterministic" | "not_checked",
#    "first_difference", "reason", "checked", "notes", "failure", "seconds"}
# `failure` (setup, A or B raised) names the part, the error, the script's
# line and the innermost project frame.
import sys

_VERIFY_SEED = 0
_OTHER_SEED = 1
_MAX_ITEMS = 1_000_000  # items drained from an iterator result
_MAX_PRINTED = 1 << 20  # stdout kept per call, characters
_MAX_UNHASHABLE = 500  # unordered mode: unhashable, unsortable items matched pairwise


class _Budget(BaseException):
    """Copying or comparing ran past the budget (BaseException, so a
    project's own `except Exception` inside an __eq__ cannot swallow it)."""


class _Uncomparable(Exception):
    """A value abbench cannot compare: where, and why."""

    def __init__(self, path, why):
        super().__init__(f"{path}: {why}")
        self.path, self.why = path, why


def _tname(t):
    module = getattr(t, "__module__", None)
    name = getattr(t, "__qualname__", None) or getattr(t, "__name__", "?")
    return name if module in (None, "builtins") else f"{module}.{name}"


def _short(value, limit=70):
    """A repr of at most `limit` characters."""
    import reprlib

    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlist, r.maxtuple = 40, 40, 5, 5
    r.maxdict, r.maxset, r.maxlevel = 3, 5, 2
    try:
        if isinstance(value, (bytes, bytearray)) and len(value) > limit:
            # reprlib would repr the whole of it first
            text = f"{type(value).__name__} of {len(value):,} bytes, starting {value[:24]!r}"
        else:
            text = r.repr(value)
    except Exception:
        text = f"<{_tname(type(value))}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _module_root(t):
    return (getattr(t, "__module__", None) or "").partition(".")[0]


def _state(obj):
    """An object's attributes from __dict__ and __slots__, or None when it has neither."""
    found, attrs = False, {}
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict):
        found = True
        attrs.update(d)
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in [slots] if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            found = True
            try:
                attrs[name] = getattr(obj, name)
            except AttributeError:
                pass
    return attrs if found else None


class _Compare:
    """The first difference between two values, phrased `path: x (A) != y (B)`."""

    def __init__(self, unordered, rel_tol, labels=("A", "B")):
        self.unordered = unordered
        self.rel_tol = rel_tol
        self.labels = labels
        self.notes = []
        self.quiet = 0  # > 0 while trying matches: no notes
        self.order_hint = False  # say when a sequence holds the same items in another order
        self._active = set()

    def note(self, text):
        if not self.quiet and text not in self.notes and len(self.notes) < 6:
            self.notes.append(text)

    def both(self, path, a, b):
        la, lb = self.labels
        return f"{path}: {_short(a)} ({la}) != {_short(b)} ({lb})"

    def close(self, x, y):
        import math

        if x == y or (x != x and y != y):
            return True
        try:
            return math.isclose(x, y, rel_tol=self.rel_tol, abs_tol=0.0)
        except TypeError:
            return False

    def diff(self, a, b, path):
        """None when a and b are the same, else the first difference."""
        if a is b:
            return None
        ta, tb = type(a), type(b)
        if _module_root(ta) == "numpy" or _module_root(tb) == "numpy":
            return self._numpy(a, b, path)
        if ta is not tb:
            if (getattr(ta, "__qualname__", 1), ta.__module__) == (getattr(tb, "__qualname__", 2), tb.__module__):
                # The same class loaded twice (A's embedded module, B's work
                # tree): its __eq__ would refuse the other copy's instances.
                return self._attributes(a, b, path)
            if (ta is bool) != (tb is bool) or not (issubclass(ta, tb) or issubclass(tb, ta)):
                la, lb = self.labels
                return f"{path}: {_tname(ta)} {_short(a)} ({la}) != {_tname(tb)} {_short(b)} ({lb})"
            self.note(f"{path} is a {_tname(ta)} in {self.labels[0]}, a {_tname(tb)} in {self.labels[1]}")
        if _module_root(ta) == "pandas" and hasattr(a, "equals"):
            return self._pandas(a, b, path)
        if isinstance(a, float):
            return None if self.close(a, b) else self.both(path, a, b)
        if isinstance(a, complex):
            same = self.close(a.real, b.real) and self.close(a.imag, b.imag)
            return None if same else self.both(path, a, b)
        if isinstance(a, (int, str, bytes, bytearray, range, type(None))):
            return None if a == b else self.both(path, a, b)
        if isinstance(a, (type, type(sys), type(_tname), type(len))) or callable(a) and hasattr(a, "__code__"):
            same = (getattr(a, "__module__", 1), getattr(a, "__qualname__", 1)) == (
                getattr(b, "__module__", 2), getattr(b, "__qualname__", 2))
            return None if same else self.both(path, a, b)
        key = (id(a), id(b))
        if key in self._active:
            return None  # a cycle: the same pair is being compared further up
        self._active.add(key)
        try:
            if isinstance(a, dict):
                return self._dict(a, b, path)
            if isinstance(a, (list, tuple)):
                return self._sequence(a, b, path)
            if isinstance(a, (set, frozenset)):
                return self._set(a, b, path)
            if isinstance(a, BaseException):
                if a.args == b.args:
                    return None
                return self.diff(list(a.args), list(b.args), path + ".args")
            return self._object(a, b, path)
        finally:
            self._active.discard(key)

    def _fast_equal(self, a, b):
        """Python's own ==, where it answers True or False (numpy inside raises)."""
        try:
            return (a == b) is True
        except Exception:
            return False

    def _dict(self, a, b, path):
        if self._fast_equal(a, b):
            if type(a) is dict and list(a) != list(b):
                self.note(f"{path} has the same keys and values in another order")
            return None
        d = self._entries(a, b, lambda k: f"{path}[{_short(k, 40)}]",
                          lambda k, who: f"{path}: key {_short(k, 40)} in {who} only ({len(a)} keys vs {len(b)})")
        if d:
            return d
        if hasattr(a, "move_to_end") and list(a) != list(b):  # OrderedDict: order is part of ==
            return f"{path}: keys in another order"
        return None

    def _sequence(self, a, b, path):
        if self._fast_equal(a, b):
            return None
        if self.unordered:
            return self._multiset(a, b, path)
        for i, (x, y) in enumerate(zip(a, b)):
            d = self.diff(x, y, f"{path}[{i}]")
            if d:
                if len(a) != len(b):
                    return f"{d}; len({path}) {len(a)} != {len(b)}"
                if self.order_hint and self._permutation(a, b):
                    return f"{d} (the same items in another order: pass equivalence \"unordered\" if the order does not matter)"
                return d
        if len(a) != len(b):
            longer, who = (a, self.labels[0]) if len(a) > len(b) else (b, self.labels[1])
            return f"len({path}) {len(a)} != {len(b)}; {who} has {_short(longer[min(len(a), len(b))])} at [{min(len(a), len(b))}]"
        return None

    def _permutation(self, a, b):
        from collections import Counter

        try:
            return Counter(a) == Counter(b)
        except TypeError:
            return False

    def _multiset(self, a, b, path):
        if len(a) != len(b):
            return f"len({path}) {len(a)} != {len(b)}"
        try:
            sa, sb = sorted(a), sorted(b)
        except TypeError:
            sa = sb = None
        if sa is not None:
            for x, y in zip(sa, sb):
                self.quiet += 1
                try:
                    d = self.diff(x, y, path)
                finally:
                    self.quiet -= 1
                if d is not None:
                    la, lb = self.labels
                    return f"{path} (order ignored): {_short(x)} in {la} where {lb} has {_short(y)} (in sorted order)"
            return None
        from collections import Counter

        try:
            ca, cb = Counter(a), Counter(b)
        except TypeError:
            ca = cb = None
        if ca is not None:
            if ca == cb:
                return None
            x = next(k for k in list(ca) + list(cb) if ca.get(k, 0) != cb.get(k, 0))
            return f"{path} (order ignored): {_short(x)} appears {ca.get(x, 0)} time(s) in {self.labels[0]}, {cb.get(x, 0)} in {self.labels[1]}"
        if len(a) > _MAX_UNHASHABLE:
            raise _Uncomparable(path, f"an unordered comparison of {len(a)} items that can be neither sorted nor hashed (the limit is {_MAX_UNHASHABLE})")
        left = list(b)
        for i, x in enumerate(a):
            for j, y in enumerate(left):
                self.quiet += 1
                try:
                    same = self.diff(x, y, path) is None
                except _Uncomparable:
                    same = False
                finally:
                    self.quiet -= 1
                if same:
                    del left[j]
                    break
            else:
                return f"{path} (order ignored): {self.labels[0]}'s item {_short(x)} has no equal in {self.labels[1]}"
        return None

    def _set(self, a, b, path):
        if self._fast_equal(a, b):
            return None
        only_a, only_b = list(a - b)[:1], list(b - a)[:1]
        if only_a:
            return f"{path}: {_short(only_a[0])} in {self.labels[0]} only ({len(a)} items vs {len(b)})"
        if only_b:
            return f"{path}: {_short(only_b[0])} in {self.labels[1]} only ({len(a)} items vs {len(b)})"
        return None

    def _numpy(self, a, b, path):
        import numpy

        la, lb = self.labels
        if isinstance(a, numpy.ndarray) != isinstance(b, numpy.ndarray):
            return f"{path}: {_tname(type(a))} ({la}) != {_tname(type(b))} ({lb})"
        if not isinstance(a, (numpy.ndarray, numpy.generic)) and not isinstance(b, (numpy.ndarray, numpy.generic)):
            # Other numpy objects (a Generator, a dtype): as any object.
            if type(a) is not type(b):
                return f"{path}: {_tname(type(a))} ({la}) != {_tname(type(b))} ({lb})"
            return self._object(a, b, path)
        if not isinstance(a, numpy.ndarray):
            # numpy scalars: by value, with numpy's type as the kind.
            if not (isinstance(a, numpy.generic) and isinstance(b, numpy.generic)):
                if type(a) is not type(b) and not (isinstance(a, float) and isinstance(b, float)):
                    return f"{path}: {_tname(type(a))} {_short(a)} ({la}) != {_tname(type(b))} {_short(b)} ({lb})"
            elif a.dtype != b.dtype:
                return f"{path}.dtype {a.dtype} ({la}) != {b.dtype} ({lb})"
            x = a.item() if isinstance(a, numpy.generic) else a
            y = b.item() if isinstance(b, numpy.generic) else b
            return self.diff(x, y, path)
        if a.shape != b.shape:
            return f"{path}.shape {a.shape} ({la}) != {b.shape} ({lb})"
        if a.dtype != b.dtype:
            return f"{path}.dtype {a.dtype} ({la}) != {b.dtype} ({lb})"
        if a.dtype.kind == "O":
            for index in numpy.ndindex(a.shape):
                d = self.diff(a[index], b[index], f"{path}[{', '.join(map(str, index))}]")
                if d:
                    return d
            return None
        if a.dtype.kind in "fc":
            same = numpy.isclose(a, b, rtol=self.rel_tol, atol=0.0, equal_nan=True)
        else:
            same = numpy.asarray(a == b)
            if same.shape != a.shape:  # structured or exotic dtypes compare whole
                return None if bool(numpy.all(same)) else f"{path}: the arrays differ"
        if bool(same.all()):
            return None
        index = tuple(int(i) for i in numpy.argwhere(~same)[0])
        where = f"{path}[{', '.join(map(str, index))}]" if index else path
        count = int((~same).sum())
        x, y = a[index], b[index]
        return f"{where}: {_short(x.item() if hasattr(x, 'item') else x)} ({la}) != {_short(y.item() if hasattr(y, 'item') else y)} ({lb}); {count} of {a.size} elements differ"

    def _pandas(self, a, b, path):
        if a.equals(b):
            return None
        import pandas.testing as pdt

        kind = type(a).__name__
        check = {"DataFrame": pdt.assert_frame_equal, "Series": pdt.assert_series_equal}.get(kind)
        if check is None:
            return f"{path}: the {kind}s differ"
        try:
            check(a, b, check_exact=False, rtol=self.rel_tol, atol=0.0)
            return None
        except AssertionError as error:
            return f"{path}: {' '.join(str(error).split())[:200]}"

    def _object(self, a, b, path):
        eq = getattr(type(a), "__eq__", None)
        if eq is not None and eq is not object.__eq__:
            try:
                same = bool(a == b)
            except Exception as error:
                raise _Uncomparable(path, f"{_tname(type(a))}.__eq__ raised {type(error).__name__}: {_short(str(error), 80)}")
            if same:
                return None
            try:
                self.quiet += 1
                deeper = self._attributes(a, b, path)
            except _Uncomparable:
                deeper = None
            finally:
                self.quiet -= 1
            return deeper or f"{self.both(path, a, b)} ({_tname(type(a))}.__eq__)"
        return self._attributes(a, b, path)

    def _attributes(self, a, b, path):
        sa, sb = _state(a), _state(b)
        if sa is None or sb is None:
            return self._pickled(a, b, path)
        return self._entries(sa, sb, lambda k: f"{path}.{k}", lambda k, who: f"{path}.{k} is set in {who} only")

    def _entries(self, a, b, step, only):
        """Two mappings entry by entry: a key one side lacks (`only(key, who)`),
        else the first value that differs (at `step(key)`)."""
        for mine, other, who in ((a, b, self.labels[0]), (b, a, self.labels[1])):
            for k in mine:
                if k not in other:
                    return only(k, who)
        for k in a:
            d = self.diff(a[k], b[k], step(k))
            if d:
                return d
        return None


    def _pickled(self, a, b, path):
        """Objects with neither __eq__ nor attributes (C types such as
        numpy's Generator): by the state they pickle to, where they can."""
        try:
            ra, rb = a.__reduce_ex__(4), b.__reduce_ex__(4)
        except Exception:
            ra = rb = None
        if not (isinstance(ra, tuple) and isinstance(rb, tuple)):
            raise _Uncomparable(path, f"a {_tname(type(a))} has no __eq__ of its own, no attributes and no pickled state abbench can read")
        return self.diff(list(ra[:3]), list(rb[:3]), f"{path}.<pickled state>")


class _Clock:
    """The budget for copying and comparing, spent across several steps."""

    def __init__(self, seconds):
        self.left = seconds

    def __enter__(self):
        import signal
        import time

        if self.left <= 0:
            raise _Budget()
        self.start = time.perf_counter()
        if hasattr(signal, "setitimer"):
            def expire(signum, frame):
                raise _Budget()

            self.previous = signal.signal(signal.SIGALRM, expire)
            signal.setitimer(signal.ITIMER_REAL, self.left)
        return self

    def __exit__(self, *exc):
        import signal
        import time

        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        self.left -= time.perf_counter() - self.start
        return False


def _library_paths():
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple(p for p in {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")} if p)


def _error_line(error):
    """`Type: the first line of its message`, at most 200 characters."""
    name = type(error).__qualname__
    try:
        lines = str(error).splitlines()
    except Exception:
        lines = []
    text = f"{name}: {lines[0]}" if lines else name
    if len(lines) > 1:
        text += f" (+{len(lines) - 1} more lines)"
    return text if len(text) <= 200 else text[:199] + "…"


def _failure(part, error, script):
    """Where `error` (raised by `part`) happened: the script's line, the innermost project frame."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    library = _library_paths()
    in_script = [f for f in frames if f.filename == script]
    project = [f for f in frames if f.filename not in (script, "<string>", __file__ if "__file__" in globals() else "")
               and not f.filename.startswith(library) and not f.filename.startswith("<frozen")]
    if isinstance(error, SyntaxError) and error.filename == script:
        return {"part": part, "error": f"SyntaxError: {error.msg}", "script_line": error.lineno, "where": None,
                "text": (error.text or "").strip()}
    inner = project[-1] if project else None
    return {
        "part": part,
        "error": _error_line(error),
        "script_line": in_script[-1].lineno if in_script else None,
        "text": (in_script[-1].line or "").strip() if in_script else None,
        "where": f"{inner.filename}, line {inner.lineno}" if inner else None,
    }


def _caches(namespace):
    """functools caches reachable from the script and the project's modules:
    cleared before each call, so no call is answered from another's cache."""
    import functools

    library = _library_paths()
    found, seen = [], set()

    def visit(obj, depth):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, functools._lru_cache_wrapper):
            found.append(obj)
            return
        if depth == 0:
            return
        if isinstance(obj, type(sys)):
            file = getattr(obj, "__file__", None)
            if file and not file.startswith(library):
                for value in list(vars(obj).values()):
                    visit(value, depth - 1)
        elif isinstance(obj, type):
            for value in list(vars(obj).values()):
                visit(getattr(value, "__func__", value), 0)
        elif isinstance(obj, dict) and depth == 2:
            for value in list(obj.values()):
                visit(value, depth - 1)

    for value in list(namespace.values()):
        visit(value, 2)
    for module in list(sys.modules.values()):
        visit(module, 1)
    return found


def _random_state():
    import random

    state = [random.getstate()]
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        try:
            s = numpy.random.get_state()
            state.append((s[0], s[1].tobytes(), s[2:]))
        except Exception:
            pass
    return state


def _seed(seed):
    import random

    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        try:
            numpy.random.seed(seed)
        except Exception:
            pass


class _Printed:
    """What a call writes to stdout: the first _MAX_PRINTED characters kept
    to quote, the whole stream checksummed to compare (a flood costs no
    memory; zlib, because hashlib's import costs more than a call)."""

    def __init__(self):
        self.kept, self.size, self.crc = [], 0, 0

    def write(self, text):
        import zlib

        if self.size < _MAX_PRINTED:
            self.kept.append(text[: _MAX_PRINTED - self.size])
        self.size += len(text)
        self.crc = zlib.crc32(text.encode("utf-8", "replace"), self.crc)
        return len(text)

    def flush(self):
        pass

    def value(self):
        return "".join(self.kept)


class _Call:
    """One call of a variant: its outcome, what it printed, setup's objects after it."""

    result = None
    error = None
    iterated = None  # the kind of iterator the result was, when it was drained
    printed = (0, 0, "")  # (characters, crc32, the first _MAX_PRINTED of them)
    state = None
    used_random = False


def _drain(value):
    """An iterator result as the list of its items (drained inside the call, where its work happens)."""
    import types

    if isinstance(value, (types.GeneratorType, map, filter, zip, enumerate, reversed)) or (
        hasattr(type(value), "__next__") and hasattr(type(value), "__iter__") and not hasattr(value, "fileno")
        and not hasattr(value, "seek")
    ):
        items = []
        for item in value:
            items.append(item)
            if len(items) > _MAX_ITEMS:
                raise _Uncomparable("result", f"the {_tname(type(value))} yields over {_MAX_ITEMS:,} items")
        return items, _tname(type(value))
    return value, None


def _verify(read_from, script, domain, mode, rel_tol, budget_s, generated, b_name="b", b_label="B"):
    """A against bench_<b_name> (a candidate of a multi-candidate script is
    named by its label in every message)."""
    import builtins
    import contextlib
    import copy
    import json
    import os
    import time
    import types

    started = time.perf_counter()
    answer = {"status": "not_checked", "first_difference": None, "reason": None, "checked": [], "notes": [],
              "failure": None}

    def finish(**fields):
        answer.update(fields)
        answer["seconds"] = round(time.perf_counter() - started, 4)
        sys.stdout.flush()
        print("ABBENCH_VERIFY " + json.dumps(answer), flush=True)

    if domain == "structure":
        return finish(reason="the structure domain times imports, whose results are modules: nothing to compare")
    module = types.ModuleType("__abbench_script__")
    module.__file__ = script
    module.__builtins__ = builtins
    sys.modules["__abbench_script__"] = module
    sys.argv = [script, "verify"]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    g = module.__dict__
    try:
        with open(read_from, encoding="utf-8") as f:
            code = compile(f.read(), script, "exec", dont_inherit=True)
        exec(code, g)
    except BaseException as error:  # SystemExit in setup is a failure too
        if isinstance(error, KeyboardInterrupt):
            raise
        if not generated:
            return finish(reason=f"loading the script without its __main__ block raised {type(error).__name__}: {_short(str(error), 100)}")
        return finish(status="failed", failure=_failure("setup", error, script))
    fns = {"a": g.get("bench_a"), "b": g.get("bench_" + b_name)}
    if not all(callable(f) for f in fns.values()):
        return finish(reason=f"the script defines no bench_a and bench_{b_name} functions at module level")
    before = g.get("_BEFORE_SETUP") or set()
    import functools

    skip = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type, types.MethodType,
            functools._lru_cache_wrapper)
    names = [k for k, v in g.items() if not k.startswith("_") and k not in before
             and not k.startswith("bench_") and not isinstance(v, skip)]
    originals = {k: g[k] for k in names}
    caches = _caches(g)
    clock = _Clock(budget_s)
    shared = {}

    def copies():
        try:
            return copy.deepcopy(originals)
        except _Budget:
            raise
        except BaseException:
            out, memo = {}, {}
            for k, v in originals.items():
                try:
                    out[k] = copy.deepcopy(v, memo)
                except _Budget:
                    raise
                except BaseException as error:
                    out[k] = v
                    shared[k] = f"{type(error).__name__}: {_short(str(error), 60)}"
            return out

    def call(variant, seed):
        # Which variant runs now, for abbench to blame a hang on (as the `ab` mode does).
        print(f"ABBENCH-RUNNING {variant}", file=sys.stderr, flush=True)
        c = _Call()
        with clock:
            state = copies()
        g.update(state)
        for cache in caches:
            cache.cache_clear()
        _seed(seed)
        seeded = _random_state()
        printed = _Printed()
        try:
            with contextlib.redirect_stdout(printed):
                fn = fns[variant]
                # An `async def` (CO_COROUTINE), told without importing inspect.
                is_async = getattr(getattr(fn, "__code__", None), "co_flags", 0) & 0x80
                value = asyncio_run(fn()) if is_async else fn()
                c.result, c.iterated = _drain(value)
        except _Uncomparable:
            raise
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                raise
            c.error = error
        finally:
            g.update(originals)
        c.used_random = _random_state() != seeded
        c.printed = (printed.size, printed.crc, printed.value())
        c.state = state
        return c

    def asyncio_run(coro):
        import asyncio

        return asyncio.run(coro)

    def compare(x, y, labels):
        """(first difference, first reason it could not be compared)."""
        cmp = _Compare(mode == "unordered", rel_tol, labels)
        uncomparable = None
        la, lb = labels
        checks = [("result", x.result, y.result)]
        checks += [(k, x.state[k], y.state[k]) for k in names if k not in shared]
        try:
            for path, a, b in checks:
                cmp.order_hint = path == "result"
                try:
                    with clock:
                        d = cmp.diff(a, b, path)
                except _Uncomparable as why:
                    uncomparable = uncomparable or str(why)
                    continue
                except RecursionError:
                    uncomparable = uncomparable or f"{path}: nested too deeply to compare"
                    continue
                if d is None:
                    continue
                if path == "result":
                    return d, None, cmp.notes
                with clock:
                    a_changed = cmp_quiet(originals[path], a)
                    b_changed = cmp_quiet(originals[path], b)
                how = "changed in place"
                try:
                    if isinstance(originals[path], list) and sorted(originals[path]) in (a, b) and originals[path] != sorted(originals[path]):
                        how = "sorted in place"
                except Exception:
                    pass
                if b_changed and not a_changed:
                    return f"`{path}` {how} by {lb} only: {d}", None, cmp.notes
                if a_changed and not b_changed:
                    return f"`{path}` {how} by {la} only: {d}", None, cmp.notes
                return f"{la} and {lb} leave `{path}` differently: {d}", None, cmp.notes
        except RecursionError:
            return None, "the values are nested too deeply to compare", cmp.notes
        if x.printed[:2] != y.printed[:2]:
            xs, ys = x.printed[2].splitlines(), y.printed[2].splitlines()
            i = next((i for i, (p, q) in enumerate(zip(xs, ys)) if p != q), min(len(xs), len(ys)))
            p = xs[i] if i < len(xs) else "(nothing more)"
            q = ys[i] if i < len(ys) else "(nothing more)"
            return f"stdout line {i + 1}: {_short(p)} ({la}) != {_short(q)} ({lb})", None, cmp.notes
        return None, uncomparable, cmp.notes

    def cmp_quiet(original, after):
        """True when `after` differs from `original` (a failed comparison counts as changed)."""
        try:
            return _Compare(False, rel_tol, ("before", "after")).diff(original, after, "x") is not None
        except (_Uncomparable, RecursionError):
            return True

    try:
        a1 = call("a", _VERIFY_SEED)
        answer["checked"] = ["result"] + [k for k in names if k not in shared] + ["stdout"]
        if a1.error is not None:
            return finish(status="failed", failure=_failure("a", a1.error, script))
        a2 = call("a", _VERIFY_SEED)
        notes = []
        if a2.error is not None:
            return finish(status="nondeterministic",
                          first_difference=f"A returned in its first call and raised {type(a2.error).__name__} in its second, with the same seed")
        d, uncomparable, notes = compare(a1, a2, ("1st call of A", "2nd call of A"))
        del a2  # at most two results alive at once
        if d:
            return finish(status="nondeterministic", notes=notes,
                          first_difference=f"A gives different results in two calls with the same seed: {d}")
        b = call("b", _VERIFY_SEED)
        if b.error is not None:
            failure = _failure("b", b.error, script)
            where = f" ({failure['where']})" if failure["where"] else ""
            return finish(status="different", failure=failure,
                          first_difference=f"{b_label} raised {failure['error']}{where} where A returned {_short(a1.result)}")
        d, uncomparable, notes = compare(a1, b, ("A", b_label))
        if a1.iterated != b.iterated:
            kinds = [f"a {k}" if k else f"a {_tname(type(c.result))}" for k, c in ((a1.iterated, a1), (b.iterated, b))]
            notes.insert(0, f"A returns {kinds[0]}, {b_label} {kinds[1]}; compared item by item (callers that index it, take len() or iterate it twice would notice)")
        if d and (a1.used_random or b.used_random):
            a3 = call("a", _OTHER_SEED)
            d3, _, _ = compare(a1, a3, (f"A, seed {_VERIFY_SEED}", f"A, seed {_OTHER_SEED}"))
            if a3.error is not None or d3:
                return finish(status="nondeterministic", notes=notes,
                              first_difference=f"A's result depends on the random numbers it draws (seeds {_VERIFY_SEED} and {_OTHER_SEED} give different results), and {b_label}'s differs from A's with the same seed, so they may only draw in another order: {d}")
        if a1.used_random:
            notes.append(f"A draws random numbers: every call was seeded with {_VERIFY_SEED}")
        if a1.result is None and b.result is None:
            notes.append(f"bench_a and bench_{b_name} return None: only setup's objects and stdout were compared; `return` the result to have it compared")
        if shared:
            names_shared = ", ".join(f"`{k}` ({why})" for k, why in shared.items())
            notes.append(f"not copied, so shared by the calls and not compared: {names_shared}")
        if d:
            return finish(status="different", first_difference=d, notes=notes)
        if uncomparable:
            return finish(reason=f"cannot compare {uncomparable}", notes=notes)
        return finish(status="same", notes=notes)
    except _Budget:
        return finish(reason=f"copying setup's objects and comparing the results took over the budget of {budget_s:g} s: they are too large to check")
    except _Uncomparable as why:
        return finish(reason=f"cannot compare {why}")


def _main():
    args = sys.argv[1:]
    script = args[0]
    opts = {"--domain": "cpu", "--mode": "strict", "--rel-tol": "1e-9", "--budget-s": "20", "--read-from": script,
            "--generated": "1", "--b": "b", "--b-label": "B"}
    for key, value in zip(args[1::2], args[2::2]):
        opts[key] = value
    _verify(opts["--read-from"], script, opts["--domain"], opts["--mode"], float(opts["--rel-tol"]),
            float(opts["--budget-s"]), opts["--generated"] == "1", opts["--b"], opts["--b-label"])
