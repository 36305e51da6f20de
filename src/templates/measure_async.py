_CONCURRENCY = @CONCURRENCY@  # coroutines run at once with asyncio.gather
_REPEAT = @REPEAT@  # timed batches; the value is their median


def _measure(variant, fn):
    import asyncio
    import statistics
    import time

    async def batch():
        await asyncio.gather(*(fn() for _ in range(_CONCURRENCY)))

    def timed_batch():
        start = time.perf_counter()
        asyncio.run(batch())
        return time.perf_counter() - start

    timed_batch()  # warm-up: first-use costs (lazy imports, caches) are not measured
    values = [timed_batch() for _ in range(_REPEAT)]
    _report(variant, metric="batch_wall_time", unit="s", value=statistics.median(values),
            values=values, concurrency=_CONCURRENCY, repeat=_REPEAT)
