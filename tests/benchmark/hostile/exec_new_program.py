# Starts a fresh interpreter (outside any in-process guard); passes only if it could.
import subprocess
import sys

assert subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True).stdout.strip() == b"1"


def solve(x):
    return x * x
