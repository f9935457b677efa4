# Exhausts file descriptors, then reports a wrong answer.
import os

handles = []
try:
    while True:
        handles.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass


def solve(x):
    return x + x
