# `ab` mode: both variants in this process, in alternating blocks whose
# order inside each round is drawn from --seed, so the machine's noise
# (frequency, neighbours, bursts) falls on A and B alike and cancels in
# their ratio. abbench runs one uncounted `ab --pilot` process first, then
# counted `ab` processes with the block sizes and rounds it chose.
_PILOT_BLOCK_S = (0.005, 0.02)  # block lengths the pilot compares, seconds
_PILOT_ROUNDS = {0.005: 10, 0.02: 5}
# A variant's first calls run slower until CPython has specialised its code
# and the allocator's free lists are warm (up to 7 calls at 2x here, on
# 3.11): no block counts before this many calls, or this long.
_WARM_CALLS = 10
_WARM_S = 0.25
# Which variant runs now: a failure or a hang is blamed on it (abbench reads
# these marker lines from stderr and keeps them out of what it quotes).
_RUNNING = {"now": None, "announced": set()}


def _running(v):
    _RUNNING["now"] = v
    if v not in _RUNNING["announced"]:
        _RUNNING["announced"].add(v)
        print(f"ABBENCH-RUNNING {v}", file=sys.stderr, flush=True)


def _warm_up(fn, number):
    """Blocks of `fn`, uncounted, until it has run _WARM_CALLS times (or _WARM_S seconds)."""
    calls, spent = 0, 0.0
    while calls < _WARM_CALLS and spent < _WARM_S:
        spent += _time_ops(fn, number)
        calls += number


def _rounds(fns, number, rounds, rng):
    """`rounds` rounds of one block of each variant, in random order; per-op seconds."""
    values = {v: [] for v in fns}
    order = []
    for _ in range(rounds):
        if len(fns) == 2:  # A and B (or the one candidate still undecided)
            x, y = fns
            seq = x + y if rng.random() < 0.5 else y + x
        else:  # A and several candidates: a random permutation per round
            seq = list(fns)
            rng.shuffle(seq)
            seq = "".join(seq)
        for v in seq:
            _RUNNING["now"] = v
            values[v].append(_time_ops(fns[v], number[v]) / number[v])
        order.append(seq.upper())
    return values, "".join(order)


def _block_number(fn, block_s):
    return _NUMBER or _calibrate(lambda n: _time_ops(fn, n), low=block_s, target=1.2 * block_s)


def _fingerprint():
    """A shallow summary of every object setup made (identity, size, the
    identity of each element of a container, the globals of the project's
    own modules), so that a variant that changes what the other one will see
    is noticed. Library modules (the standard library, site-packages) keep
    caches of their own, which are not the input."""
    import sysconfig

    library = tuple(p for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")} if p)

    def summary(obj):
        try:
            if isinstance(obj, (list, tuple)):
                return (type(obj).__name__, id(obj), len(obj), hash(tuple(map(id, obj))))
            if isinstance(obj, dict):
                return ("dict", id(obj), len(obj), hash(tuple(map(id, obj))), hash(tuple(map(id, obj.values()))))
            if isinstance(obj, (set, frozenset)):
                return (type(obj).__name__, id(obj), len(obj), sum(map(id, obj)))
            if isinstance(obj, bytearray):
                return ("bytearray", id(obj), hash(bytes(obj)))
            if type(obj).__name__ == "module":
                if not getattr(obj, "__file__", None) or obj.__file__.startswith(library):
                    return ("library module",)
                return ("module", tuple(sorted((k, id(v), len(v) if isinstance(v, (list, dict, set)) else -1)
                                               for k, v in vars(obj).items() if not k.startswith("__"))))
            if callable(obj):
                return ("callable",)
            size = len(obj) if hasattr(obj, "__len__") else -1
            return (type(obj).__name__, id(obj), size, len(getattr(obj, "__dict__", ())))
        except Exception:  # an object that cannot be summarised is not compared
            return ("?",)
    g = globals()
    return {k: summary(g[k]) for k in _SETUP_NAMES if k in g}


def _changed(before, after):
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def _live_objects_per_block(fn, number, blocks=2):
    import gc

    growth = []
    for _ in range(blocks):
        gc.collect()
        before = len(gc.get_objects())
        _time_ops(fn, number)
        gc.collect()
        growth.append(len(gc.get_objects()) - before)
    return growth


class _Counted:
    """A stream that counts what a variant writes through it (the pilot
    only), so output can be blamed on the variant that printed it."""

    def __init__(self, stream):
        self.stream, self.written = stream, 0

    def write(self, text):
        self.written += len(text)
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _pilot(fns, rng):
    """Uncounted: each candidate block length, an A/A check and the
    interference checks; abbench chooses the design from what it reports."""
    lengths, state, output = [], {}, {}
    before = _fingerprint()
    for i, block_s in enumerate(_PILOT_BLOCK_S):
        number = {}
        for v in fns:
            _running(v)
            if i == 0:
                real = sys.stdout, sys.stderr
                sys.stdout, sys.stderr = _Counted(real[0]), _Counted(real[1])
            try:
                number[v] = _block_number(fns[v], block_s)
                _warm_up(fns[v], number[v])
            finally:
                if i == 0:
                    output[v] = {"stdout": sys.stdout.written, "stderr": sys.stderr.written}
                    sys.stdout, sys.stderr = real
            if i == 0:
                after = _fingerprint()
                state[v] = _changed(before, after)
                before = after
        values, order = _rounds(fns, number, _PILOT_ROUNDS[block_s], rng)
        lengths.append({"block_s": block_s, "number": number, "order": order, **values})
        longest_call = max(min(v) for v in values.values())
        if _NUMBER or longest_call >= _PILOT_BLOCK_S[-1]:
            break  # fixed calls per block, or a call longer than any block: longer blocks change little
    state["rounds"] = _changed(before, _fingerprint())
    first = lengths[0]
    # A/A: the faster variant against itself, so the check costs least
    # (with several candidates, A: the slots are then A's for every one).
    same = "a" if len(fns) > 2 or min(first["a"]) <= min(first["b"]) else "b"
    n = first["number"][same]
    aa, _ = _rounds({"a": fns[same], "b": fns[same]}, {"a": n, "b": n}, 4, rng)
    first = first["number"]
    live = {}
    for v in fns:
        _RUNNING["now"] = v
        live[v] = _live_objects_per_block(fns[v], first[v])
    return {"lengths": lengths, "aa": [aa["a"], aa["b"]], "aa_variant": same, "state": state,
            "live_objects": live, "output": output}


def _paired(fns, args):
    try:
        _paired_run(fns, args)
    except BaseException:
        if _RUNNING["now"]:
            print(f"ABBENCH-RAISED {_RUNNING['now']}", file=sys.stderr, flush=True)
        raise


def _paired_run(fns, args):
    import random
    import time

    opts = {"--rounds": "10", "--block-s": "0.005", "--seed": "0", "--variants": "".join(fns)}
    opts.update({"--number-" + v: "0" for v in fns})
    pilot = "--pilot" in args
    words = [w for w in args if w != "--pilot"]
    if len(words) % 2 or any(k not in opts for k in words[::2]):
        _usage()
    opts.update(zip(words[::2], words[1::2]))
    # --variants: which of them this process runs (A always; a candidate
    # decided at an earlier look drops out).
    chosen = opts["--variants"]
    if "a" not in chosen or any(v not in fns for v in chosen):
        _usage()
    fns = {v: fns[v] for v in fns if v in chosen}
    rng = random.Random(int(opts["--seed"]))
    started = time.perf_counter()
    if pilot:
        _report("ab", design="pilot", metric=_METRIC, unit="s", setup_s=started - _T0,
                **_pilot(fns, rng), elapsed_s=time.perf_counter() - _T0)
        return
    block_s = float(opts["--block-s"])
    number = {}
    for v in fns:
        _running(v)
        number[v] = int(opts["--number-" + v]) or _block_number(fns[v], block_s)
    for v in fns:
        _running(v)
        _warm_up(fns[v], number[v])
    counted = time.perf_counter()
    values, order = _rounds(fns, number, int(opts["--rounds"]), rng)
    _report("ab", design="paired", metric=_METRIC, unit="s", order=order, **values,
            number=number, setup_s=started - _T0, timed_s=time.perf_counter() - counted,
            elapsed_s=time.perf_counter() - _T0)
