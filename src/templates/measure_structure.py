_MODULES = @MODULES@  # cleared (with submodules) before every import
_NUMBER = @NUMBER@  # imports per repeat; None = calibrate so one repeat takes ~0.05-0.2 s
_REPEAT = @REPEAT@  # repeats; the value is their median


def _clear_modules():
    for loaded in list(sys.modules):
        if any(loaded == m or loaded.startswith(m + ".") for m in _MODULES):
            del sys.modules[loaded]


def _time_imports(fn, number):
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

    first = _time_imports(fn, 1)  # the cold first import in this process, reported apart
    number = _NUMBER or _calibrate(lambda n: _time_imports(fn, n))
    per_import = [_time_imports(fn, number) / number for _ in range(_REPEAT)]
    _report(variant, metric="import_time", unit="s", value=statistics.median(per_import),
            values=per_import, number=number, repeat=_REPEAT, first_import_s=first,
            modules=_MODULES)
