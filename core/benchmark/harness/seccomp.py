"""A seccomp filter for the sample's process: no new processes or programs, no reaching other processes.

Installed by the sample's harness on itself just before the sample runs (Linux on x86_64 or aarch64), after
``PR_SET_NO_NEW_PRIVS``. Whatever route the code takes (os.system, subprocess, _posixsubprocess, ctypes, a raw
syscall instruction), the kernel refuses with EPERM:

- new processes and programs: fork, vfork, clone without CLONE_THREAD (threads stay allowed: they share the
  process's memory, so the address-space limit covers the whole sample), execve, execveat; clone3 answers
  ENOSYS so that the C library falls back to clone, whose flags the filter can read;
- other processes: ptrace, process_vm_readv/writev, kcmp, pidfd_*, process_madvise/mrelease, move_pages,
  migrate_pages; kill, tgkill, rt_sigqueueinfo and rt_tgsigqueueinfo only towards its own pid (and its own
  process group, which after setsid() holds only itself), tkill never; prlimit64, setpriority,
  ioprio_set and sched_setparam/setscheduler/setaffinity/setattr only on itself (a sample must not slow down
  the zygote that later samples inherit from, or other processes of its uid);
  fcntl(F_SETOWN/F_SETOWN_EX/F_SETSIG) and ioctl(FIOSETOWN/SIOCSPGRP) (signals by I/O ownership);
- what outlives a process or escapes the sandbox: System V and POSIX IPC, memfd, io_uring, userfaultfd, bpf,
  perf_event_open, keyrings, namespaces and mounts (unshare, setns, mount, pivot_root, chroot ...), and
  network sockets (only AF_UNIX may be created);
- the administrative calls (modules, reboot, swap, clocks, quotas, syslog ...), privileged anyway.
A call from another ABI (i386 on x86_64, x32) kills the process.
"""

from __future__ import annotations

import os
import struct

__all__ = ["ARCHES", "available_arch", "filter_program", "install", "make_undumpable", "prepare"]

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
ARCHES = tuple(AUDIT_ARCH)
CLONE_THREAD = 0x00010000
AF_UNIX = 1
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15
FIOSETOWN, SIOCSPGRP = 0x8901, 0x8902
PRIO_USER, IOPRIO_WHO_USER = 2, 3
X32_SYSCALL_BIT = 0x40000000

RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38

# Syscall numbers: x86_64 from asm/unistd_64.h, aarch64 from asm-generic/unistd.h.
_DENIED_NAMES = (
    "ptrace", "process_vm_readv", "process_vm_writev", "execve", "execveat", "fork", "vfork", "tkill",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "kcmp", "perf_event_open", "bpf", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "unshare", "setns", "mount", "umount2",
    "pivot_root", "chroot", "open_tree", "move_mount", "fsopen", "fsmount", "fspick", "mount_setattr",
    "keyctl", "add_key", "request_key", "memfd_create", "memfd_secret", "shmget", "shmat", "shmctl",
    "semget", "semop", "semctl", "semtimedop", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open",
    "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr", "process_madvise",
    "process_mrelease", "move_pages", "migrate_pages", "init_module", "finit_module", "delete_module",
    "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "settimeofday",
    "clock_settime", "adjtimex", "clock_adjtime", "syslog", "open_by_handle_at", "fanotify_init",
    "lookup_dcookie", "iopl", "ioperm", "uselib", "vhangup"
)  # fmt: skip
SYSCALLS = {
    "x86_64": {
        "ioctl": 16, "shmget": 29, "shmat": 30, "shmctl": 31, "socket": 41, "clone": 56, "fork": 57,
        "vfork": 58, "execve": 59, "kill": 62, "semget": 64, "semop": 65, "semctl": 66, "msgget": 68,
        "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "fcntl": 72, "ptrace": 101, "syslog": 103,
        "rt_sigqueueinfo": 129, "uselib": 134, "vhangup": 153, "pivot_root": 155, "adjtimex": 159,
        "chroot": 161, "acct": 163, "settimeofday": 164, "mount": 165, "umount2": 166, "swapon": 167,
        "swapoff": 168, "reboot": 169, "iopl": 172, "ioperm": 173, "init_module": 175, "delete_module": 176,
        "quotactl": 179, "tkill": 200, "lookup_dcookie": 212, "semtimedop": 220, "clock_settime": 227,
        "tgkill": 234, "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243,
        "mq_notify": 244, "mq_getsetattr": 245, "kexec_load": 246, "add_key": 248, "request_key": 249,
        "keyctl": 250, "migrate_pages": 256, "unshare": 272, "move_pages": 279, "rt_tgsigqueueinfo": 297,
        "perf_event_open": 298, "fanotify_init": 300, "prlimit64": 302, "open_by_handle_at": 304,
        "clock_adjtime": 305, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
        "finit_module": 313, "memfd_create": 319, "kexec_file_load": 320, "bpf": 321, "execveat": 322,
        "userfaultfd": 323, "pidfd_send_signal": 424, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432,
        "fspick": 433, "pidfd_open": 434, "clone3": 435, "pidfd_getfd": 438, "process_madvise": 440,
        "mount_setattr": 442, "memfd_secret": 447, "process_mrelease": 448, "setpriority": 141,
        "sched_setparam": 142, "sched_setscheduler": 144, "sched_setaffinity": 203, "sched_setattr": 314,
        "ioprio_set": 251,
    },
    "aarch64": {
        "lookup_dcookie": 18, "fcntl": 25, "ioctl": 29, "umount2": 39, "mount": 40, "pivot_root": 41,
        "chroot": 51, "vhangup": 58, "quotactl": 60, "acct": 89, "unshare": 97, "kexec_load": 104,
        "init_module": 105, "delete_module": 106, "clock_settime": 112, "syslog": 116, "ptrace": 117,
        "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "reboot": 142,
        "settimeofday": 170, "adjtimex": 171, "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182,
        "mq_timedreceive": 183, "mq_notify": 184, "mq_getsetattr": 185, "msgget": 186, "msgctl": 187,
        "msgrcv": 188, "msgsnd": 189, "semget": 190, "semctl": 191, "semtimedop": 192, "semop": 193,
        "shmget": 194, "shmctl": 195, "shmat": 196, "socket": 198, "add_key": 217, "request_key": 218,
        "keyctl": 219, "clone": 220, "execve": 221, "swapon": 224, "swapoff": 225, "migrate_pages": 238,
        "move_pages": 239, "rt_tgsigqueueinfo": 240, "perf_event_open": 241, "prlimit64": 261,
        "fanotify_init": 262, "open_by_handle_at": 265, "clock_adjtime": 266, "setns": 268,
        "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272, "finit_module": 273,
        "memfd_create": 279, "bpf": 280, "execveat": 281, "userfaultfd": 282, "kexec_file_load": 294,
        "pidfd_send_signal": 424, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432, "fspick": 433,
        "pidfd_open": 434, "clone3": 435, "pidfd_getfd": 438, "process_madvise": 440, "mount_setattr": 442,
        "memfd_secret": 447, "process_mrelease": 448, "setpriority": 140, "sched_setparam": 118,
        "sched_setscheduler": 119, "sched_setaffinity": 122, "sched_setattr": 274, "ioprio_set": 30,
    },
}  # fmt: skip

# Classic BPF opcodes.
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JSET_K = 0x45
_JGE_K = 0x35
_RET_K = 0x06
# Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6] (64-bit each, little-endian here).
_NR, _ARCH = 0, 4


def _arg_low(index: int) -> int:
    return 16 + 8 * index


def _arg_high(index: int) -> int:
    return 20 + 8 * index


def available_arch() -> str | None:
    """The architecture name this filter supports here, or None (another machine, not Linux)."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return None
    machine = os.uname().machine.lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return machine if machine in AUDIT_ARCH else None


class _Program:
    """Classic BPF with symbolic jumps: ``jump(op, k, true_label, false_label)``, labels resolved at the end."""

    def __init__(self) -> None:
        self.items: list = []

    def stmt(self, code: int, k: int) -> None:
        self.items.append(("stmt", code, k))

    def jump(self, code: int, k: int, true: str | None, false: str | None) -> None:
        self.items.append(("jump", code, k, true, false))

    def label(self, name: str) -> None:
        self.items.append(("label", name))

    def assemble(self) -> bytes:
        positions, index = {}, 0
        for item in self.items:
            if item[0] == "label":
                positions[item[1]] = index
            else:
                index += 1
        out, index = [], 0
        for item in self.items:
            if item[0] == "label":
                continue
            if item[0] == "stmt":
                out.append(struct.pack("=HBBI", item[1], 0, 0, item[2] & 0xFFFFFFFF))
            else:
                _, code, k, true, false = item
                jt = 0 if true is None else positions[true] - index - 1
                jf = 0 if false is None else positions[false] - index - 1
                if not (0 <= jt < 256 and 0 <= jf < 256):
                    raise ValueError("seccomp filter jump out of range")
                out.append(struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF))
            index += 1
        return b"".join(out)


def filter_program(arch: str, own_pid: int) -> bytes:
    """The filter (packed struct sock_filter array) for ``arch``; ``own_pid`` is the pid signals may target."""
    numbers = SYSCALLS[arch]
    program = _Program()
    program.stmt(_LD_W_ABS, _ARCH)
    program.jump(_JEQ_K, AUDIT_ARCH[arch], None, "kill")
    program.stmt(_LD_W_ABS, _NR)
    if arch == "x86_64":
        program.jump(_JGE_K, X32_SYSCALL_BIT, "kill", None)
    for name in _DENIED_NAMES:
        if name in numbers:
            program.jump(_JEQ_K, numbers[name], "deny", None)
    program.jump(_JEQ_K, numbers["clone3"], "nosys", None)
    program.jump(_JEQ_K, numbers["clone"], "clone", None)
    for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        program.jump(_JEQ_K, numbers[name], "own_pid_or_group", None)
    for name in ("prlimit64", "sched_setparam", "sched_setscheduler", "sched_setaffinity", "sched_setattr"):
        program.jump(_JEQ_K, numbers[name], "self_only", None)
    program.jump(_JEQ_K, numbers["setpriority"], "priority", None)
    program.jump(_JEQ_K, numbers["ioprio_set"], "io_priority", None)
    program.jump(_JEQ_K, numbers["socket"], "socket", None)
    program.jump(_JEQ_K, numbers["fcntl"], "fcntl", None)
    program.jump(_JEQ_K, numbers["ioctl"], "ioctl", None)
    program.stmt(_RET_K, RET_ALLOW)
    # clone: only threads (CLONE_THREAD set in the flags, argument 0 on both architectures).
    program.label("clone")
    program.stmt(_LD_W_ABS, _arg_low(0))
    program.jump(_JSET_K, CLONE_THREAD, "allow", "deny")
    # kill-like calls: the target pid (argument 0) must be ours, 0 (our own group) or -ours.
    program.label("own_pid_or_group")
    program.stmt(_LD_W_ABS, _arg_low(0))
    program.jump(_JEQ_K, own_pid, "allow", None)
    program.jump(_JEQ_K, 0, "allow", None)
    program.jump(_JEQ_K, (-own_pid) & 0xFFFFFFFF, "allow", "deny")
    # setpriority(which, who, prio) / ioprio_set(which, who, prio): never a whole user, only itself.
    program.label("priority")
    program.stmt(_LD_W_ABS, _arg_low(0))
    program.jump(_JEQ_K, PRIO_USER, "deny", "who_self")
    program.label("io_priority")
    program.stmt(_LD_W_ABS, _arg_low(0))
    program.jump(_JEQ_K, IOPRIO_WHO_USER, "deny", "who_self")
    program.label("who_self")
    program.stmt(_LD_W_ABS, _arg_low(1))
    program.jump(_JEQ_K, 0, "allow", None)
    program.jump(_JEQ_K, own_pid, "allow", "deny")
    # prlimit64 and the sched_set* calls: pid 0 (itself) or its own pid.
    program.label("self_only")
    program.stmt(_LD_W_ABS, _arg_low(0))
    program.jump(_JEQ_K, 0, "allow", None)
    program.jump(_JEQ_K, own_pid, "allow", "deny")
    # socket: AF_UNIX only.
    program.label("socket")
    program.stmt(_LD_W_ABS, _arg_low(0))
    program.jump(_JEQ_K, AF_UNIX, "allow", "deny")
    # fcntl / ioctl: no I/O ownership (it would send SIGIO/SIGURG to another process).
    program.label("fcntl")
    program.stmt(_LD_W_ABS, _arg_low(1))
    for command in (F_SETOWN, F_SETSIG, F_SETOWN_EX):
        program.jump(_JEQ_K, command, "deny", None)
    program.stmt(_RET_K, RET_ALLOW)
    program.label("ioctl")
    program.stmt(_LD_W_ABS, _arg_low(1))
    for command in (FIOSETOWN, SIOCSPGRP):
        program.jump(_JEQ_K, command, "deny", None)
    program.stmt(_RET_K, RET_ALLOW)
    program.label("allow")
    program.stmt(_RET_K, RET_ALLOW)
    program.label("deny")
    program.stmt(_RET_K, RET_ERRNO | EPERM)
    program.label("nosys")
    program.stmt(_RET_K, RET_ERRNO | ENOSYS)
    program.label("kill")
    program.stmt(_RET_K, RET_KILL_PROCESS)
    return program.assemble()


_PREPARED: dict = {}


def prepare() -> str:
    """Load ctypes and the C library and build the filter's template once: a zygote does it before forking
    its samples, which then only patch their pid in. Returns "" or why seccomp cannot be used here."""
    if _PREPARED:
        return _PREPARED.get("error", "")
    arch = available_arch()
    if arch is None:
        _PREPARED["error"] = "seccomp filters are available on Linux x86_64 and aarch64 only"
        return _PREPARED["error"]
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError) as error:
        _PREPARED["error"] = f"ctypes or the C library is unavailable ({error})"
        return _PREPARED["error"]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    # Two builds with different pids show which 8-byte instructions hold the pid: patched per sample.
    first, second = filter_program(arch, 1), filter_program(arch, 2)
    slots = [i for i in range(0, len(first), 8) if first[i : i + 8] != second[i : i + 8]]
    _PREPARED.update(ctypes=ctypes, prctl=prctl, fprog=SockFprog, template=first, slots=slots, arch=arch)
    return ""


def _patched(own_pid: int) -> bytes:
    template, slots = _PREPARED["template"], _PREPARED["slots"]
    code = bytearray(template)
    for offset in slots:
        opcode, jt, jf, k = struct.unpack_from("=HBBI", template, offset)
        new_k = own_pid if k == 1 else (-own_pid) & 0xFFFFFFFF
        struct.pack_into("=HBBI", code, offset, opcode, jt, jf, new_k)
    return bytes(code)


def install(own_pid: int | None = None) -> str:
    """Install the filter on this process (and threads it starts later); returns "" or why it could not."""
    error = prepare()
    if error:
        return error
    ctypes, prctl = _PREPARED["ctypes"], _PREPARED["prctl"]
    code = _patched(os.getpid() if own_pid is None else own_pid)
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = _PREPARED["fprog"](len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if prctl(pr_set_no_new_privs, 1, None, 0, 0) != 0:
        return f"PR_SET_NO_NEW_PRIVS failed ({os.strerror(ctypes.get_errno())})"
    if prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(prog), 0, 0) != 0:
        return f"PR_SET_SECCOMP failed ({os.strerror(ctypes.get_errno())})"
    return ""


def make_undumpable() -> bool:
    """PR_SET_DUMPABLE 0: no ptrace attach and no /proc/<pid>/mem for processes of the same uid (Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(4, 0, 0, 0, 0) == 0  # PR_SET_DUMPABLE
    except (ImportError, OSError, AttributeError):
        return False
