"""abbench's run_e2e_benchmark hook (after hook_common.py), installed as
`sitecustomize` (first on PYTHONPATH) for one workload process. It reads its
orders from ABBENCH_E2E_* variables and removes them, so the workload's own
child processes run untouched; it imports the sitecustomize it shadows, if
any; it never prints.

- targets: each target function's own time (outermost calls, so recursion is
  not counted twice) and call count, through sys.monitoring on 3.12+ (a code
  object that is not a target is disabled at its first event, so the rest of
  the workload runs at full speed); before 3.12, by wrapping each target in
  its module's namespace as the module is imported (only target calls pay).
  Either way a generator's time is the sum of its resumptions from the first
  call to exhaustion (what the consumer does between items is not its time)
  and it counts as one call; a coroutine's time runs from its call to its
  completion, awaits included;
- memory: the process's peak under memray's tracker, from start-up to exit;
- foreign: modules this process imported from the *other* tree (a base
  process running the work tree's code through an editable install would
  measure the candidate twice).

At exit it writes one JSON object to ABBENCH_E2E_OUT.
"""

import os
import sys


def _timers(targets, root):
    """Counters and the enter/leave/index functions over them."""
    import time

    wanted = {}
    for i, t in enumerate(targets):
        path = os.path.realpath(os.path.join(root, t["file"]))
        wanted.setdefault(path, {})[t["qualname"]] = i
    n = len(targets)
    calls, seconds, depth, since = [0] * n, [0.0] * n, [0] * n, [0.0] * n
    lazy = [False] * n  # ran as a generator
    by_file = {}
    clock = time.perf_counter

    def index(code):
        names = by_file.get(code.co_filename, False)
        if names is False:
            names = wanted.get(os.path.realpath(code.co_filename))
            by_file[code.co_filename] = names
        if names is None:
            return None
        return names.get(getattr(code, "co_qualname", code.co_name))

    def enter(i):
        if depth[i] == 0:
            since[i] = clock()
        depth[i] += 1

    def leave(i):
        if depth[i] > 0:
            depth[i] -= 1
            if depth[i] == 0:
                seconds[i] += clock() - since[i]

    return calls, seconds, lazy, index, enter, leave, wanted


def _monitor(index, enter, leave, calls, lazy):
    """sys.monitoring (3.12+); False when no tool id is free. A generator
    leaves at each yield (its resumptions are summed); a coroutine stays in
    from its start to its return (its awaits count, as the wrapper's do)."""
    mon = sys.monitoring
    tool = next((t for t in (2, 3, 4, 5) if mon.get_tool(t) is None), None)
    if tool is None:
        return False
    mon.use_tool_id(tool, "abbench-e2e")
    events, disable = mon.events, mon.DISABLE
    generator, awaits = 0x20 | 0x200, 0x80 | 0x100  # CO_(ASYNC_)GENERATOR, CO_(ITERABLE_)COROUTINE

    def on_start(code, offset):
        i = index(code)
        if i is None:
            return disable
        calls[i] += 1
        if code.co_flags & generator:
            lazy[i] = True
        enter(i)

    def on_resume(code, offset, exc=None):  # PY_RESUME and PY_THROW
        i = index(code)
        if i is None:
            return disable
        if not code.co_flags & awaits:
            enter(i)

    def on_yield(code, offset, value):
        i = index(code)
        if i is None:
            return disable
        if not code.co_flags & awaits:
            leave(i)

    def on_exit(code, offset, value):
        i = index(code)
        if i is None:
            return disable
        leave(i)

    def on_unwind(code, offset, exc):  # cannot be disabled
        i = index(code)
        if i is not None:
            leave(i)

    mon.register_callback(tool, events.PY_START, on_start)
    mon.register_callback(tool, events.PY_RESUME, on_resume)
    mon.register_callback(tool, events.PY_THROW, on_resume)
    mon.register_callback(tool, events.PY_RETURN, on_exit)
    mon.register_callback(tool, events.PY_YIELD, on_yield)
    mon.register_callback(tool, events.PY_UNWIND, on_unwind)
    mon.set_events(tool, events.PY_START | events.PY_RESUME | events.PY_THROW
                   | events.PY_RETURN | events.PY_YIELD | events.PY_UNWIND)
    return True


def _resumptions(gen, i, enter, leave):
    """gen, with each of its resumptions timed (what the consumer does
    between items is not gen's time); close and throw reach it."""
    value, error = None, None
    while True:
        enter(i)
        try:
            item = gen.send(value) if error is None else gen.throw(error)
        except StopIteration as stop:
            return stop.value
        finally:
            leave(i)
        value, error = None, None
        try:
            value = yield item
        except GeneratorExit:
            enter(i)
            try:
                gen.close()
            finally:
                leave(i)
            raise
        except BaseException as e:
            error = e


def _async_steps(agen, i, enter, leave):
    """agen, with each step timed from request to item (its awaits count)."""
    async def steps():
        value = None
        while True:
            enter(i)
            try:
                item = await agen.asend(value)
            except StopAsyncIteration:
                return
            finally:
                leave(i)
            value = yield item
    return steps()


def _wrapper(f, i, enter, leave, calls, lazy):
    """f, timed: a coroutine function's time includes its awaits; a
    generator function's generator is timed over its resumptions (as
    sys.monitoring times it)."""
    import functools
    import inspect

    if inspect.iscoroutinefunction(f):
        @functools.wraps(f)
        async def timed(*args, **kwargs):
            calls[i] += 1
            enter(i)
            try:
                return await f(*args, **kwargs)
            finally:
                leave(i)
        return timed
    steps = (_resumptions if inspect.isgeneratorfunction(f)
             else _async_steps if inspect.isasyncgenfunction(f) else None)

    @functools.wraps(f)
    def timed(*args, **kwargs):
        calls[i] += 1
        enter(i)
        try:
            result = f(*args, **kwargs)
        finally:
            leave(i)
        if steps is None:
            return result
        lazy[i] = True
        return steps(result, i, enter, leave)
    return timed


def _foreign(other):
    """Files of imported modules that lie in the other tree (outside any
    installation prefix, so a virtualenv inside the work tree does not count)."""
    if not other:
        return []
    import site

    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    try:
        prefixes.update(os.path.realpath(p) for p in site.getsitepackages())
    except Exception:
        pass
    found = set()
    for module in list(sys.modules.values()):
        f = getattr(module, "__file__", None)
        if not f:
            continue
        f = os.path.realpath(f)
        if f.startswith(other + os.sep) and not any(f.startswith(p + os.sep) for p in prefixes):
            found.add(f)
    return sorted(found)[:20]


def _install(out):
    import atexit
    import json

    root = os.environ.pop("ABBENCH_E2E_ROOT", ".")
    other = os.environ.pop("ABBENCH_E2E_OTHER", "")
    targets = json.loads(os.environ.pop("ABBENCH_E2E_TARGETS", "[]"))
    memray_dir = os.environ.pop("ABBENCH_E2E_MEMRAY", "")
    memray_path = os.environ.pop("ABBENCH_MEMRAY_PATH", "")
    report = {"hook": None, "targets": [], "foreign": [], "peak_bytes": None}

    tracker = None
    if memray_dir:
        if memray_path:
            sys.path.append(memray_path)  # provisioned by abbench; last, so it shadows nothing
        import memray

        capture = os.path.join(memray_dir, "e2e-%d.bin" % os.getpid())
        tracker = memray.Tracker(capture, native_traces=False, trace_python_allocators=True,
                                 file_format=memray.FileFormat.AGGREGATED_ALLOCATIONS)
        tracker.__enter__()

    calls = seconds = lazy = None
    if targets:
        calls, seconds, lazy, index, enter, leave, wanted = _timers(targets, root)
        if hasattr(sys, "monitoring") and _monitor(index, enter, leave, calls, lazy):
            report["hook"] = "sys.monitoring"
        else:
            _wrap_on_import(wanted, lambda f, i: _wrapper(f, i, enter, leave, calls, lazy))
            report["hook"] = "wrapper"

    def finish():
        if calls is not None:
            report["targets"] = [{"calls": c, "seconds": s, "generator": g}
                                 for c, s, g in zip(calls, seconds, lazy)]
        report["foreign"] = _foreign(os.path.realpath(other) if other else "")
        if tracker is not None:
            tracker.__exit__(None, None, None)
            with memray.FileReader(capture) as reader:
                report["peak_bytes"] = reader.metadata.peak_memory
            os.remove(capture)
        with open(out, "w") as f:
            json.dump(report, f)

    atexit.register(finish)


_OUT = os.environ.pop("ABBENCH_E2E_OUT", None)
_chain()
if _OUT:
    _install(_OUT)
