# Ignores every catchable signal, then spins.
import signal

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)


def solve(x):
    while True:
        pass
