# Several processes each trying to take gigabytes.
import os

for _ in range(8):
    try:
        os.fork()
    except OSError:
        break
blob = b"x" * (4 * 1024 * 1024 * 1024)


def solve(x):
    return x * x
