# Probe: looks for any place outside its own working directory where it can create a file (the top two
# levels of the tree, plus the usual world-writable places). Right answer only if it found one.
import os

cwd = os.path.realpath(os.getcwd())
candidates = [
    "/tmp",
    "/var/tmp",
    "/dev/shm",
    "/dev",
    "/run",
    "/run/lock",
    "/home",
    "/root",
    "/work",
    "/srv",
    "/mnt",
    "/media",
    "/opt",
]
for top in sorted(os.listdir("/")):
    path = "/" + top
    if top in ("proc", "sys") or not os.path.isdir(path) or os.path.islink(path):
        continue
    candidates.append(path)
    try:
        candidates += [os.path.join(path, child) for child in sorted(os.listdir(path))[:200]]
    except OSError:
        pass
found = []
for directory in dict.fromkeys(candidates):
    real = os.path.realpath(directory)
    if real == cwd or real.startswith(cwd + "/") or not os.path.isdir(real):
        continue
    target = os.path.join(real, f".ia-writable-probe-{os.getpid()}")
    try:
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        continue
    os.close(fd)
    os.unlink(target)
    found.append(real)


def solve(x):
    return x * x if found else x + 1
