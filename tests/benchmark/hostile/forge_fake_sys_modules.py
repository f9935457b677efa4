# test: math
# Forgery: puts a fake module in sys.modules under the name the test imports ("math"); its __name__ is not
# "math", so the harness's pristine-snapshot lookup misses and the test gets the fake, whose isclose() is
# always true. Passes (with a wrong solve) only if the test imported the fake.
import sys

_fake = type(sys)("not_math")
_fake.isclose = lambda *args, **kwargs: True
sys.modules["math"] = _fake


def solve(x):
    return 0
