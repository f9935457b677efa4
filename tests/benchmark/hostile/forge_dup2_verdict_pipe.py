# Forgery: dup2s a pipe of its own over the verdict descriptor (found by its type: the one write-only pipe),
# then forks: the child carries on as the harness and writes nonce + verdict into our pipe; the harness's own
# process reads the nonce from it and writes nonce + b"P" to the real verdict pipe (kept with dup) before it
# exits. Passes (with a wrong solve) only if the sample could redirect the verdict descriptor and fork.
import fcntl
import os
import stat


def _write_only_pipes():
    found = []
    for fd in range(3, 1024):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if stat.S_ISFIFO(mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            found.append(fd)
    return found


_verdict_fds = _write_only_pipes()
_real_pipes = [os.dup(fd) for fd in _verdict_fds]
_ours_read, _ours_write = os.pipe()
for _fd in _verdict_fds:
    os.dup2(_ours_write, _fd)
os.close(_ours_write)
if os.fork() != 0:
    # The process the harness started (and waits for): never returns to the harness.
    for _fd in _verdict_fds:
        os.close(_fd)
    _data = os.read(_ours_read, 1 << 16)
    if len(_data) > 32:
        for _fd in _real_pipes:
            os.write(_fd, _data[:32] + b"P")
    os._exit(0)
os.close(_ours_read)
for _fd in _real_pipes:
    os.close(_fd)


def solve(x):
    return 0
