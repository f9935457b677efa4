# test: builtins
# Forgery: shadows abs and all, which the test uses, with callable instances (not functions, so no
# plain-value guard wraps them); the test's globals are the sample's names, found before the builtins.
# solve is right only for 6 (the one value the test checks with math.isclose); passes only if shadowed.


class _Always:
    def __init__(self, value):
        self.value = value

    def __call__(self, *args, **kwargs):
        return self.value


abs = _Always(0)
all = _Always(True)


def solve(x):
    return 36 if x == 6 else 0
