# A child in the same group that outlives the answer; the answer is wrong.
import os
import time

if os.fork() == 0:
    time.sleep(120)
    os._exit(0)


def solve(x):
    return x
