def _memray_read(path):
    """(peak bytes, bytes still allocated at the end) of one capture; removes it."""
    import memray
    import os

    with memray.FileReader(path) as reader:
        peak = reader.metadata.peak_memory
        live = sum(r.size for r in reader.get_leaked_allocation_records())
    os.remove(path)
    return peak, live


def _measure(variant, fn):
    if _SETUP_TRACKING is not None:
        # Run by abbench: the variant alone under memray, every Python
        # allocation traced; its peak is the variant's own footprint.
        import memray

        tracker, setup_path = _SETUP_TRACKING
        tracker.__exit__(None, None, None)
        setup_peak, setup_live = _memray_read(setup_path)
        path = setup_path.replace("abbench-setup-", f"abbench-{variant}-")
        with _memray_tracker(path, True):
            fn()
        peak, _ = _memray_read(path)
        _report(variant, metric="peak_memory", unit="bytes", value=peak, measured_by="memray",
                memray=memray.__version__, setup_live_bytes=setup_live, setup_peak_bytes=setup_peak,
                process_peak_bytes=max(setup_peak, setup_live + peak))
        return
    if "memray" in sys.modules:
        # Under `memray run`: its peak is the measurement; tracemalloc stays
        # off because its own bookkeeping would inflate that peak.
        fn()
        _report(variant, metric="peak_memory", unit="bytes", value=None, measured_by="memray")
        return
    import tracemalloc

    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _report(variant, metric="peak_memory", unit="bytes", value=peak, measured_by="tracemalloc")


def _warmup(fns):
    """Every variant once, nothing measured: imports compiled, caches warm."""
    for fn in fns.values():
        fn()
    _report("warmup", metric="peak_memory", unit="bytes", value=None)
