_NUMBER = @NUMBER@  # calls per repeat; None = calibrate so one repeat takes ~0.05-0.2 s
_REPEAT = @REPEAT@  # repeats; the value is their median


def _measure(variant, fn):
    import statistics
    import timeit

    timer = timeit.Timer(fn)
    number = _NUMBER or _calibrate(timer.timeit)
    per_call = [total / number for total in timer.repeat(repeat=_REPEAT, number=number)]
    _report(variant, metric="time_per_call", unit="s", value=statistics.median(per_call),
            values=per_call, number=number, repeat=_REPEAT)
