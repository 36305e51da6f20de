_NUMBER = @NUMBER@  # calls per repeat (and per block); None = calibrate
_REPEAT = @REPEAT@  # repeats in `a`/`b` mode; the value is their median
_METRIC = "time_per_call"
_TIMERS = {}


def _time_ops(fn, number):
    """Seconds for `number` calls of fn (timeit: the garbage collector is off while timing)."""
    import timeit

    timer = _TIMERS.get(fn) or _TIMERS.setdefault(fn, timeit.Timer(fn))
    return timer.timeit(number)


def _measure(variant, fn):
    import statistics

    number = _NUMBER or _calibrate(lambda n: _time_ops(fn, n))
    per_call = [_time_ops(fn, number) / number for _ in range(_REPEAT)]
    _report(variant, metric=_METRIC, unit="s", value=statistics.median(per_call),
            values=per_call, number=number, repeat=_REPEAT)
