# Runs a revision-form script's `check` mode in a fresh fork of this
# long-lived interpreter, so each check costs a fork instead of an
# interpreter start (50 ms with site-packages here). The child is as fresh
# as a new process for the project's code: this parent imports nothing of it.
# One JSON request per stdin line: {"script" (the staged file), "path" (its
# final name), "cwd", "timeout_s", "pycache_prefix", and "verify" (the
# equivalence check's options, from verify.py, prepended) to run that check
# instead of `check`}; one JSON answer per line: {"output", "timed_out",
# "status"}.
import builtins
import collections  # noqa: F401  (what the equivalence check needs, imported once here)
import contextlib  # noqa: F401
import copy  # noqa: F401
import functools  # noqa: F401
import reprlib  # noqa: F401
import sysconfig  # noqa: F401
import traceback  # noqa: F401
import zlib  # noqa: F401
import hashlib  # noqa: F401  (for _compiled, imported once here)
import importlib.abc  # noqa: F401  (what the script's loader needs, imported once here)
import importlib.machinery  # noqa: F401
import json
import linecache  # noqa: F401
import marshal  # noqa: F401
import os
import select
import sys
import time
import types


def run_script(staged, path):
    """`python path check`, from the staged text: what runpy.run_path does,
    with the compiled code cached (a regenerated script whose text did not
    change is not compiled again)."""
    with open(staged, encoding="utf-8") as f:
        text = f.read()
    sys.argv = [path, "check"]
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    exec(_compiled(text, path), main.__dict__)  # _compiled: templates/compiled.py, prepended


def check(request):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        # Its own process group, so whatever the project's code starts goes
        # with it; stdin is not the worker's request pipe.
        os.setpgid(0, 0)
        os.close(read_end)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        status = 0
        try:
            os.chdir(request["cwd"])
            # The caller's variables, as the run will set them; PYTHONPATH
            # must reach sys.path by hand in an interpreter already started.
            env = request.get("env") or {}
            os.environ.update(env)
            if env.get("PYTHONPATH"):
                sys.path[1:1] = [os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep) if p]
            # Bytecode goes to abbench's own cache, never beside the project's
            # files; later checks of unchanged modules then skip compiling them.
            if request.get("pycache_prefix"):
                sys.pycache_prefix = request["pycache_prefix"]
                sys.dont_write_bytecode = False
            else:
                sys.dont_write_bytecode = True
            verify = request.get("verify")
            if verify:
                _verify(request["script"], request.get("path") or request["script"], verify["domain"],
                        verify["mode"], float(verify["rel_tol"]), float(verify["budget_s"]),
                        bool(verify["generated"]), verify.get("b", "b"), verify.get("b_label", "B"))
            else:
                run_script(request["script"], request.get("path") or request["script"])
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
            status = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass  # the child did it first
    os.close(write_end)
    deadline = time.monotonic() + float(request.get("timeout_s", 120))
    chunks, timed_out, status, eof = [], False, None, False
    # Until the child ends (not until the pipe closes: a process it started
    # may hold the pipe open), or its time is up.
    while status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        if not eof:
            ready, _, _ = select.select([read_end], [], [], min(left, 0.05))
            if ready:
                data = os.read(read_end, 1 << 16)
                if data:
                    chunks.append(data)
                    continue
                eof = True
        else:
            time.sleep(0.01)
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw
    try:
        os.killpg(pid, 9)  # the child on a timeout, and anything it left running
    except OSError:
        pass
    if status is None:
        _, status = os.waitpid(pid, 0)
    os.set_blocking(read_end, False)
    try:
        while True:
            data = os.read(read_end, 1 << 16)
            if not data:
                break
            chunks.append(data)
    except BlockingIOError:
        pass
    os.close(read_end)
    output = b"".join(chunks).decode("utf-8", "replace")
    return {"output": output[-(1 << 20):], "timed_out": timed_out, "status": os.waitstatus_to_exitcode(status)}


for line in sys.stdin:
    print(json.dumps(check(json.loads(line))), flush=True)
