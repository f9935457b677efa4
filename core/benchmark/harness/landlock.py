"""Landlock for the sample's process (Linux 5.13+): the file system it may touch, and (ABI 4+) no TCP, (ABI 6+)
no signals or abstract Unix sockets outside its own domain.

Applied by the sample's harness on itself, before the sample runs and before the seccomp filter (which
forbids the Landlock calls afterwards). It matters most at the ``unshare`` and ``rlimits`` levels, which have
no mount namespace: there it keeps the sample from reading the user's files and from opening
``/proc/<pid>/mem`` of another process of the same user. Under bwrap it is one more wall. Allowed:
- reading (files and directory listings) beneath the interpreter's directories, /usr, /lib*, /etc;
- reading and writing /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom;
- everything beneath its working directory (its own scratch space, emptied after it).
Anything else is refused with EACCES, whatever the file's permissions say.
"""

from __future__ import annotations

import os
import struct

__all__ = ["abi_version", "restrict"]

# Syscall numbers are the same on x86_64 and aarch64.
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
_FS_ALL = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15)  # + TRUNCATE, IOCTL_DEV
_SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/etc", "/bin")
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


def _libc():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return ctypes, libc


def abi_version() -> int:
    """Landlock's ABI version here (0: unavailable: another system, an older kernel, or not enabled)."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return 0
    try:
        ctypes, libc = _libc()
    except (ImportError, OSError):
        return 0
    version = libc.syscall(
        _CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
    )
    return max(0, int(version))


def _fs_mask(abi: int) -> int:
    mask = 0
    for version, bits in sorted(_FS_ALL.items()):
        if abi >= version:
            mask = bits
    return mask


def restrict(read_dirs: list[str], write_dirs: list[str]) -> str:
    """Confine this process (and threads it starts) to those directories; "" or why it could not."""
    abi = abi_version()
    if abi < 1:
        return "Landlock is not available here"
    ctypes, libc = _libc()
    handled_fs = _fs_mask(abi)
    handled_net = 0b11 if abi >= 4 else 0  # BIND_TCP, CONNECT_TCP
    scoped = 0b11 if abi >= 6 else 0  # abstract Unix sockets, signals
    attr = struct.pack("=QQQ", handled_fs, handled_net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    buffer = ctypes.create_string_buffer(attr[:size], size)
    ruleset = libc.syscall(_CREATE_RULESET, buffer, ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return f"landlock_create_ruleset failed ({os.strerror(ctypes.get_errno())})"
    try:
        rules = [(path, READ_FILE | READ_DIR) for path in [*read_dirs, *_SYSTEM_READ]]
        rules += [(path, READ_FILE | WRITE_FILE) for path in _DEVICES]
        rules += [(path, handled_fs) for path in write_dirs]
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not os.path.isdir(path):
                    rights &= _FILE_RIGHTS
                rule = ctypes.create_string_buffer(struct.pack("=Qi", rights & handled_fs, fd), 12)
                if libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, rule, ctypes.c_uint32(0)) != 0:
                    return f"landlock_add_rule({path}) failed ({os.strerror(ctypes.get_errno())})"
            finally:
                os.close(fd)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            return f"PR_SET_NO_NEW_PRIVS failed ({os.strerror(ctypes.get_errno())})"
        if libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            return f"landlock_restrict_self failed ({os.strerror(ctypes.get_errno())})"
    finally:
        os.close(ruleset)
    return ""
