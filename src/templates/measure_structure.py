_MODULES = @MODULES@  # cleared (with submodules) before every import
_NUMBER = @NUMBER@  # imports per repeat (and per block); None = calibrate
_REPEAT = @REPEAT@  # repeats in `a`/`b` mode; the value is their median
_METRIC = "import_time"


def _clear_modules():
    for loaded in list(sys.modules):
        if any(loaded == m or loaded.startswith(m + ".") for m in _MODULES):
            del sys.modules[loaded]


def _time_ops(fn, number):
    """Seconds of `number` imports, each after clearing _MODULES (the clearing is not timed)."""
    import time

    total = 0.0
    for _ in range(number):
        _clear_modules()
        start = time.perf_counter()
        fn()
        total += time.perf_counter() - start
    return total


def _measure(variant, fn):
    import statistics

    first = _time_ops(fn, 1)  # the cold first import in this process, reported apart
    number = _NUMBER or _calibrate(lambda n: _time_ops(fn, n))
    per_import = [_time_ops(fn, number) / number for _ in range(_REPEAT)]
    _report(variant, metric=_METRIC, unit="s", value=statistics.median(per_import),
            values=per_import, number=number, repeat=_REPEAT, first_import_s=first,
            modules=_MODULES)
