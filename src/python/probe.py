# abbench helper: what Python is this, what can it import, and (with
# ABBENCH_MEMRAY_PATH) does a memray that abbench provisioned import here?
import importlib.util
import json
import os
import platform
import sys
import sysconfig


def found(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def version(name):
    try:
        from importlib.metadata import version as v
        return v(name)
    except Exception:
        return None


in_env = found("memray")
in_env_version = version("memray") if in_env else None
provisioned = None
extra = os.environ.get("ABBENCH_MEMRAY_PATH")
if extra and os.path.isdir(extra) and not in_env:
    sys.path.append(extra)
    try:
        import memray
        provisioned = memray.__version__
    except Exception:
        provisioned = None

print(json.dumps({
    "version": platform.python_version(),
    "implementation": platform.python_implementation(),
    "executable": sys.executable,
    "platform": platform.platform(),
    "tag": sysconfig.get_config_var("SOABI") or f"{sys.implementation.cache_tag}-{platform.machine()}",
    "in_virtualenv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
    "memray": in_env,
    "memray_version": in_env_version,
    "memray_provisioned": provisioned,
    "pytest": found("pytest"),
    "pytest_benchmark": found("pytest_benchmark"),
    "pip": found("pip"),
    "path": os.environ.get("PATH"),
    "virtual_env": os.environ.get("VIRTUAL_ENV"),
}))
