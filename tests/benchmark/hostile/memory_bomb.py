# Allocates without bound; must hit the memory limit, not the machine.
hog = []
while True:
    hog.append(bytearray(64 * 1024 * 1024))


def solve(x):
    return x * x
