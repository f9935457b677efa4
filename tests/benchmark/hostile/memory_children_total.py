# Four processes each take 80% of the memory limit at the same time (4 x 800 MB against 1 GB): passes only
# if all four held their memory at once, i.e. the limit is per process, not for the whole sample.
import os
import resource

_CHILDREN = 4
_limit, _ = resource.getrlimit(resource.RLIMIT_AS)
_each = int(0.8 * _limit) if _limit != resource.RLIM_INFINITY else 800 << 20
_report_read, _report_write = os.pipe()
_release_read, _release_write = os.pipe()
_pids = []
for _ in range(_CHILDREN):
    try:
        _pid = os.fork()
    except OSError:
        break
    if _pid == 0:
        os.close(_report_read)
        os.close(_release_write)
        try:
            blob = bytearray(_each)
            blob[:: 1 << 12] = b"\1" * len(range(0, _each, 1 << 12))  # touch every page
            os.write(_report_write, b"1")
        except MemoryError:
            os.write(_report_write, b"0")
        os.read(_release_read, 1)  # hold the memory until the parent has heard from every child
        os._exit(0)
    _pids.append(_pid)
os.close(_report_write)
os.close(_release_read)
_reports = b""
while len(_reports) < len(_pids):
    _chunk = os.read(_report_read, _CHILDREN)
    if not _chunk:
        break
    _reports += _chunk
os.close(_release_write)
for _pid in _pids:
    os.waitpid(_pid, 0)
_all_held = _reports == b"1" * _CHILDREN


def solve(x):
    return x * x if _all_held else -1
