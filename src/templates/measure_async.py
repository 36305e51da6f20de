_CONCURRENCY = @CONCURRENCY@  # coroutines run at once with asyncio.gather
_NUMBER = @NUMBER@  # batches per block in `ab` mode; None = calibrate
_REPEAT = @REPEAT@  # timed batches in `a`/`b` mode; the value is their median
_METRIC = "batch_wall_time"


def _time_ops(fn, number):
    """Wall seconds of `number` batches: asyncio.run of a gather of _CONCURRENCY calls."""
    import asyncio
    import time

    async def batch():
        await asyncio.gather(*(fn() for _ in range(_CONCURRENCY)))

    total = 0.0
    for _ in range(number):
        start = time.perf_counter()
        asyncio.run(batch())
        total += time.perf_counter() - start
    return total


def _measure(variant, fn):
    import statistics

    _time_ops(fn, 1)  # warm-up: first-use costs (lazy imports, caches) are not measured
    values = [_time_ops(fn, 1) for _ in range(_REPEAT)]
    _report(variant, metric=_METRIC, unit="s", value=statistics.median(values),
            values=values, concurrency=_CONCURRENCY, repeat=_REPEAT)
