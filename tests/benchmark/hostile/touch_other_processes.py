# Probe: reaches another process (its parent: the sandbox's init or the zygote; pid 1; any pid /proc shows)
# by every route there is: signal, ptrace attach, process_vm_readv, /proc/<pid>/mem, scheduling and limits.
# Right answer only if one of them worked on a process other than itself.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
me = os.getpid()
targets = {os.getppid(), 1}
try:
    targets.update(int(name) for name in os.listdir("/proc") if name.isdigit())
except OSError:
    pass
targets.discard(me)
targets.discard(0)


class IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


reached = []
for pid in sorted(targets)[:64]:
    attempts = {
        "kill": lambda pid=pid: os.kill(pid, 0),
        "setpriority": lambda pid=pid: os.setpriority(os.PRIO_PROCESS, pid, 19),
        "sched_setaffinity": lambda pid=pid: os.sched_setaffinity(pid, {0}),
        "mem": lambda pid=pid: open(f"/proc/{pid}/mem", "rb").close(),
    }
    for name, attempt in attempts.items():
        try:
            attempt()
            reached.append((name, pid))
        except (OSError, ValueError):
            pass
    if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
        reached.append(("ptrace", pid))
        libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
    buffer = ctypes.create_string_buffer(8)
    local = IOVec(ctypes.cast(buffer, ctypes.c_void_p), 8)
    remote = IOVec(0x400000, 8)
    if libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) >= 0:
        reached.append(("process_vm_readv", pid))


def solve(x):
    return x * x if reached else x + 1
