# Lists root's home folder; passes only if the real entries are visible.
import os

assert "__HOME_ENTRY__" in os.listdir("/root")
assert "__HOME_ENTRY__" in os.listdir(os.path.expanduser("~root"))


def solve(x):
    return x * x
