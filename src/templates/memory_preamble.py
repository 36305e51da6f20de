# Run by abbench (ABBENCH_MEMRAY=1), setup runs under memray's tracker with
# only the system allocator traced (cheap): how much setup leaves alive is
# the baseline the variant's own peak sits on. Run by hand, nothing happens.
def _memray_tracker(path, python_allocators):
    import memray

    return memray.Tracker(path, native_traces=False, trace_python_allocators=python_allocators,
                          file_format=memray.FileFormat.AGGREGATED_ALLOCATIONS)


def _track_setup():
    import os

    if os.environ.get("ABBENCH_MEMRAY") != "1":
        return None
    if os.environ.get("ABBENCH_MEMRAY_PATH"):
        sys.path.append(os.environ["ABBENCH_MEMRAY_PATH"])  # provisioned by abbench; last, so it shadows nothing
    path = os.path.join(os.environ.get("ABBENCH_MEMRAY_DIR", "."), f"abbench-setup-{os.getpid()}.bin")
    tracker = _memray_tracker(path, False)
    tracker.__enter__()
    return tracker, path


_SETUP_TRACKING = _track_setup()
