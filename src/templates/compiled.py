def _compiled(source, filename):
    """compile(), cached by content under sys.pycache_prefix when one is set
    (abbench's import check sets its own, outside the project), so unchanged
    code is not compiled twice; without one, compiled afresh. Shared by the
    generated scripts' loader and the import-check worker."""
    if not sys.pycache_prefix:
        return compile(source, filename, "exec", dont_inherit=True)
    import hashlib
    import marshal
    import os

    key = hashlib.sha256(f"{sys.implementation.cache_tag}\0{filename}\0{source}".encode()).hexdigest()
    path = os.path.join(sys.pycache_prefix, "abbench-code", key[:32] + ".bin")
    try:
        with open(path, "rb") as f:
            return marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        code = compile(source, filename, "exec", dont_inherit=True)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + f".{os.getpid()}", "wb") as f:
            f.write(marshal.dumps(code))
        os.replace(path + f".{os.getpid()}", path)
    except OSError:
        pass
    return code
