"""The processes that judge a sample: the judge (trusted, runs the test) and the sample's side (sandboxed,
runs the generated code), and what they share (wire, rpc, control, seccomp).

Both start as ``python -I -S -c BOOT``: no site-packages, no environment, nothing of the project on disk
(under bwrap the project is hidden). BOOT reads one frame on standard input (``boot_frame``): the harness
modules (compiled code objects when the interpreter is the host's own, else their source), the role and its
setup; it registers the modules under their usual names and calls the role's ``enter(boot)``.
"""

from __future__ import annotations

import marshal
import os
import sys
import threading
from pathlib import Path

__all__ = ["BOOT", "JUDGE_MODULES", "SAMPLE_MODULES", "boot_frame"]

_HERE = Path(__file__).resolve().parent
SAMPLE_MODULES = ("wire", "control", "rpc", "seccomp", "landlock", "sample_side")
JUDGE_MODULES = ("wire", "control", "rpc", "seccomp", "judge_side")
# Run by tests to simulate another platform in the harness processes (e.g. no ``resource`` module);
# empty in normal use.
PRELUDE: list[str] = []

BOOT = r"""
import marshal, os, sys, types
def _boot():
    def read(size):
        chunks = []
        while size:
            chunk = os.read(0, min(size, 1 << 20))
            if not chunk:
                os._exit(70)
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)
    boot = marshal.loads(read(int.from_bytes(read(4), "big")))
    for prelude in boot.pop("prelude", ()):
        exec(prelude, {})
    for package in ("core", "core.benchmark", "core.benchmark.harness"):
        module = types.ModuleType(package)
        module.__path__ = []
        sys.modules[package] = module
    for name, code in boot.pop("modules"):
        module = types.ModuleType(name)
        module.__file__ = "<" + name + ">"
        sys.modules[name] = module
        exec(compile(code, module.__file__, "exec") if isinstance(code, str) else code, module.__dict__)
        parent, _, leaf = name.rpartition(".")
        setattr(sys.modules[parent], leaf, module)
    sys.modules[boot.pop("entry")].enter(boot)
_boot()
"""

_CACHE: dict[tuple[str, bool], list] = {}
_LOCK = threading.Lock()


def _modules(names: tuple[str, ...], compiled: bool) -> list:
    result = []
    with _LOCK:
        for name in names:
            key = (name, compiled)
            if key not in _CACHE:
                source = (_HERE / f"{name}.py").read_text(encoding="utf-8")
                full = f"core.benchmark.harness.{name}"
                _CACHE[key] = [full, compile(source, f"<{full}>", "exec") if compiled else source]
            result.append(_CACHE[key])
    return result


_MAGIC: dict[str, bool] = {}


def same_bytecode(python: str) -> bool:
    """True when ``python`` runs this interpreter's bytecode (same magic number): code objects compiled here
    can be sent as they are, which saves the harness compiling its modules at every start. Asked once."""
    if python not in _MAGIC:
        try:
            same = os.path.realpath(python) == os.path.realpath(sys.executable)
        except OSError:
            same = False
        if not same:
            import importlib.util
            import subprocess

            probe = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"
            try:
                out = subprocess.run(
                    [python, "-I", "-S", "-c", probe], capture_output=True, text=True, timeout=30, check=True
                ).stdout
                same = out.strip() == importlib.util.MAGIC_NUMBER.hex()
            except (OSError, subprocess.SubprocessError):
                same = False
        _MAGIC[python] = same
    return _MAGIC[python]


def boot_frame(role: str, setup: dict, *, python: str, fds: tuple = (), control: int | None = None) -> bytes:
    """The frame BOOT reads: ``role`` is "sample", "sample-zygote", "judge" or "judge-zygote"."""
    judge = role.startswith("judge")
    names = JUDGE_MODULES if judge else SAMPLE_MODULES
    payload = {
        "modules": _modules(names, same_bytecode(python)),
        "entry": f"core.benchmark.harness.{names[-1]}",
        "role": role,
        "setup": setup,
        "fds": list(fds),
        "control": control,
        "prelude": list(PRELUDE),
    }
    body = marshal.dumps(payload)
    return len(body).to_bytes(4, "big") + body
