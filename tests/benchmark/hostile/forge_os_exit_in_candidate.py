# Exits the process with status 0 from inside the candidate.
import os


def solve(x):
    os._exit(0)
