# abbench helper: what Python is this, and can it import memray?
import importlib.util
import json
import platform
import sys

print(json.dumps({
    "version": platform.python_version(),
    "implementation": platform.python_implementation(),
    "executable": sys.executable,
    "platform": platform.platform(),
    "memray": importlib.util.find_spec("memray") is not None,
}))
