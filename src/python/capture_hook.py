"""abbench's capture hook (after hook_common.py), installed as
`sitecustomize` (first on PYTHONPATH) for one run of a test or workload on
the base revision. It wraps each target as its module is imported and
records the calls the target really receives: positional and keyword
arguments pickled at entry (before the function can mutate them), outermost
calls only (a recursive target's inner calls are part of the outer one),
identical calls once with a weight, at most ABBENCH_CAPTURE_MAX_CALLS
distinct ones (the smallest and largest input always among them), each at
most ABBENCH_CAPTURE_CALL_BYTES and all of them at most
ABBENCH_CAPTURE_TOTAL_BYTES. A call that cannot be pickled (a generator, a
lock, an open file, a lambda) or is over a cap is skipped, with why.

At exit it writes ABBENCH_CAPTURE_OUT (a pickle: the kept calls) and
ABBENCH_CAPTURE_OUT + ".json" (what was seen, kept and skipped). It reads
its orders from ABBENCH_CAPTURE_* variables and removes them, so the
process's own children run untouched; it imports the sitecustomize it
shadows; it never prints.
"""

import os
import sys


class _Recorder:
    """The distinct calls and what was skipped, for every target.

    Identical calls (the same pickled arguments) are kept once with a
    weight. The first `exhaustive` calls are all pickled; later ones only
    when a reservoir draw picks them, so a hot target does not pay a pickle
    per call. Over `max_calls` distinct calls, a random one is dropped, but
    never the smallest or the largest main argument: the edge cases are
    what an equivalence check needs most."""

    def __init__(self, names, max_calls, call_bytes, seed, exhaustive=2000):
        import random

        self.names = names  # each target's short name, by index
        self.max_calls, self.call_bytes, self.exhaustive = max_calls, call_bytes, exhaustive
        self.rng = random.Random(seed)
        self.seen = 0
        self.kept = {}  # sha1 of the pickle -> [call index, target index, blob, size, weight]
        self.hashes = set()  # every distinct call seen (the kept ones are a subset)
        self.skipped = []
        self.skipped_count = 0

    def skip(self, call, reason):
        self.skipped_count += 1
        if len(self.skipped) < 20:
            self.skipped.append({"call": call, "reason": reason})

    def record(self, target, args, kwargs):
        import hashlib
        import pickle

        call = self.seen
        self.seen += 1
        if call >= self.exhaustive and self.rng.randrange(call + 1) >= self.max_calls:
            return
        try:
            blob = pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # pickle raises TypeError, AttributeError, PicklingError...
            self.skip(call, "an argument cannot be pickled (%s: %s)" % (type(e).__name__, e))
            return
        if len(blob) > self.call_bytes:
            self.skip(call, "%d bytes pickled, over the per-call cap of %d" % (len(blob), self.call_bytes))
            return
        key = hashlib.sha1(blob).digest()
        if key in self.kept:
            self.kept[key][4] += 1
            return
        self.hashes.add(key)
        main = args[0] if args else next(iter(kwargs.values()), None)
        try:
            size = len(main)
        except Exception:
            size = None
        self.kept[key] = [call, target, blob, size, 1]
        if len(self.kept) > self.max_calls:
            self.drop_one()

    def drop_one(self):
        sized = [(e[3], k) for k, e in self.kept.items() if e[3] is not None]
        extremes = {min(sized)[1], max(sized)[1]} if sized else set()
        victims = [k for k in self.kept if k not in extremes]
        del self.kept[self.rng.choice(victims)]

    def write(self, out, total_bytes):
        import json
        import pickle

        kept, used = [], 0
        for entry in sorted(self.kept.values()):
            if used + len(entry[2]) > total_bytes:
                self.skip(entry[0], "over the total cap of %d bytes" % total_bytes)
                continue
            used += len(entry[2])
            kept.append(entry)
        import hashlib

        calls = [{"call": c, "target": t, "args": blob, "weight": w, "repr": _shown(self.names[t], blob)}
                 for c, t, blob, _, w in kept]
        data = pickle.dumps({"format": 1, "calls": calls}, protocol=pickle.HIGHEST_PROTOCOL)
        with open(out, "wb") as f:
            f.write(data)
        sizes = [e[3] for e in kept if e[3] is not None]
        summary = {
            "calls_seen": self.seen,
            "calls_kept": len(kept),
            "distinct": len(self.hashes),
            "bytes": used,
            "sizes": [min(sizes), max(sizes)] if sizes else None,
            "skipped": self.skipped,
            "skipped_count": self.skipped_count,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        with open(out + ".json", "w") as f:
            json.dump(summary, f)


def _shown(name, blob):
    """`name(args…)`, short: how a difference names the call."""
    import pickle
    import reprlib

    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 24, 24, 4, 4
    args, kwargs = pickle.loads(blob)
    parts = [short.repr(a) for a in args] + ["%s=%s" % (k, short.repr(v)) for k, v in kwargs.items()]
    text = "%s(%s)" % (name, ", ".join(parts))
    return text if len(text) <= 80 else text[:77] + "..."


def _wrapper(f, target, recorder, depth):
    """f, recording its outermost calls' arguments before it runs."""
    import functools

    @functools.wraps(f)
    def recorded(*args, **kwargs):
        if depth[target] == 0:
            recorder.record(target, args, kwargs)
        depth[target] += 1
        try:
            return f(*args, **kwargs)
        finally:
            depth[target] -= 1
    return recorded


def _install(out):
    import atexit
    import json

    root = os.environ.pop("ABBENCH_CAPTURE_ROOT", ".")
    targets = json.loads(os.environ.pop("ABBENCH_CAPTURE_TARGETS", "[]"))
    max_calls = int(os.environ.pop("ABBENCH_CAPTURE_MAX_CALLS", "200"))
    call_bytes = int(os.environ.pop("ABBENCH_CAPTURE_CALL_BYTES", str(1 << 20)))
    total_bytes = int(os.environ.pop("ABBENCH_CAPTURE_TOTAL_BYTES", str(32 << 20)))
    seed = int(os.environ.pop("ABBENCH_CAPTURE_SEED", "0"))
    wanted = {}
    for i, t in enumerate(targets):
        path = os.path.realpath(os.path.join(root, t["file"]))
        wanted.setdefault(path, {})[t["qualname"]] = i
    names = [t["qualname"].rsplit(".", 1)[-1] for t in targets]
    recorder = _Recorder(names, max_calls, call_bytes, seed)
    depth = [0] * len(targets)
    _wrap_on_import(wanted, lambda f, i: _wrapper(f, i, recorder, depth))
    atexit.register(lambda: recorder.write(out, total_bytes))


_OUT = os.environ.pop("ABBENCH_CAPTURE_OUT", None)
_chain()
if _OUT:
    _install(_OUT)
