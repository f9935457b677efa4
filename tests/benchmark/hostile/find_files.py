# Second of a pair (after leave_files.py on the same worker, prewarmed(1)): passes only if it finds a file an
# earlier sample left (then removes it, so that a run without leave_files.py before it fails).
import os

_MARKER = ".ia-hostile-leftover"
_PLACES = ("/dev/shm", "/home", "/root", "/work", "/run", "/var/tmp", "/mnt", "/srv", "/media", "/dev", ".")

_found = []
for _place in _PLACES:
    _path = os.path.join(_place, _MARKER)
    try:
        with open(_path) as _handle:
            if _handle.read() == "left by leave_files.py":
                _found.append(_place)
        os.unlink(_path)
    except OSError:
        continue


def solve(x):
    return x * x if _found else -1
