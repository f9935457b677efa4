# Never terminates.
def solve(x):
    while True:
        pass
