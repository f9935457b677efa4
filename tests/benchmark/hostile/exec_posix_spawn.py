# Probe: starts a program with os.posix_spawn (clone(CLONE_VM|CLONE_VFORK) + execve in the C library).
# Right answer only if it ran.
import os

pid = os.posix_spawn("/bin/true", ["/bin/true"], {})
ran = os.waitpid(pid, 0)[1] == 0


def solve(x):
    return x * x if ran else x + 1
