# Double-forks a daemon that leaves the session and keeps running, then fails.
import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(0.1)
    os._exit(0)


def solve(x):
    return x + 1
