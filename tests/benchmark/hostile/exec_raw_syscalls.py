# Probe: starts a new process or program with raw system calls through ctypes (no Python function, no
# audit event): fork, vfork, clone without CLONE_THREAD, execve. Right answer only if one of them worked.
import ctypes
import os
import signal

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
machine = os.uname().machine
NUMBERS = {
    "x86_64": {"fork": 57, "vfork": 58, "clone": 56, "execve": 59},
    "aarch64": {"clone": 220, "execve": 221},
}[machine]
worked = []
for name in ("fork", "vfork", "clone"):
    if name not in NUMBERS:
        continue
    if name == "clone":
        pid = libc.syscall(NUMBERS[name], signal.SIGCHLD, 0, 0, 0, 0)
    else:
        pid = libc.syscall(NUMBERS[name])
    if pid == 0:
        os._exit(0)  # the child: leave at once
    if pid > 0:
        worked.append(name)
        os.waitpid(pid, 0)
argv = (ctypes.c_char_p * 2)(b"/bin/true", None)
if libc.syscall(NUMBERS["execve"], b"/bin/true", argv, None) == 0:
    worked.append("execve")


def solve(x):
    return x * x if worked else x + 1
