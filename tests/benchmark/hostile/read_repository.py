# Reads the project's own files (the benchmark sandbox source); passes only if it could.
with open("__REPO__/core/benchmark/sandbox.py") as handle:
    assert "Sandbox" in handle.read()


def solve(x):
    return x * x
