# First of a pair (then find_files.py on the same worker, prewarmed(1)): leaves a marker file in every
# writable place it finds among the directories the sandbox hides (tmpfs in the sandbox, never writable by
# a sandbox uid on the host; the host's world-writable /dev/shm and /var/tmp are left out so that levels
# without a mount namespace leave nothing behind) and in its working directory. Passes only if it could
# write somewhere other than the working directory (which the harness wipes between samples).
import os

_MARKER = ".ia-hostile-leftover"
_PLACES = ("/home", "/root", "/work", "/run", "/mnt", "/srv", "/media", "/dev", ".")

_outside = []
for _place in _PLACES:
    try:
        with open(os.path.join(_place, _MARKER), "w") as _handle:
            _handle.write("left by leave_files.py")
    except OSError:
        continue
    if _place != ".":
        _outside.append(_place)


def solve(x):
    return x * x if _outside else -1
