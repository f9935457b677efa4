# Overwrites a file outside the sandbox; passes only if the write worked.
with open("__CANARY__", "w") as handle:
    handle.write("owned")


def solve(x):
    return x * x
