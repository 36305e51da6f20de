def _calibrate(time_ops, low=0.05, target=0.1):
    """Smallest count whose total takes >= `low` seconds (like timeit's autorange)."""
    number = 1
    while True:
        elapsed = time_ops(number)
        if elapsed >= low:
            return number
        grow = target / elapsed if elapsed > 0 else 10.0
        number = max(number + 1, int(number * min(grow, 10.0)))


def _report(variant, **fields):
    """Print the one line abbench reads: `ABBENCH {json}` (the last one wins)."""
    import json

    line = {"abbench": 1, "name": _NAME, "variant": variant, "domain": _DOMAIN}
    line.update(fields)
    sys.stdout.flush()
    print("ABBENCH " + json.dumps(line), flush=True)


def _usage():
    print(f"usage: python {sys.argv[0]} {_USAGE}", file=sys.stderr)
    sys.exit(2)
