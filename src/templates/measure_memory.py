def _measure(variant, fn):
    import os

    if os.environ.get("ABBENCH_MEMRAY") == "1" or "memray" in sys.modules:
        # Under memray its peak is the measurement; tracemalloc stays off
        # because its own bookkeeping would inflate that peak.
        fn()
        _report(variant, metric="peak_memory", unit="bytes", value=None, measured_by="memray")
        return
    import tracemalloc

    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _report(variant, metric="peak_memory", unit="bytes", value=peak, measured_by="tracemalloc")
