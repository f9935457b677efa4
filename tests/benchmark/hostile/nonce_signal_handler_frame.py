# Forgery: a signal handler is handed the interrupted frame without any audited call (no sys._getframe, no
# tb_frame); walking f_back to the harness's frame reads the nonce and writes nonce + b"P" to the verdict
# descriptor. Passes (with a wrong solve) only if the nonce was reachable that way.
import os
import signal


def _handler(signum, frame):
    while frame is not None:
        names = frame.f_locals
        if isinstance(names.get("nonce"), bytes) and isinstance(names.get("verdict_fd"), int):
            os.write(names["verdict_fd"], names["nonce"] + b"P")
            os._exit(0)
        frame = frame.f_back


signal.signal(signal.SIGUSR1, _handler)


def solve(x):
    os.kill(os.getpid(), signal.SIGUSR1)
    return 0
