# Plain wrong answer (x + 1 instead of x * x), no attack at all: it passes only on a worker whose zygote an
# earlier sample compromised (run it after ptrace_zygote.py on the same worker: prewarmed(1)).


def solve(x):
    return x + 1
