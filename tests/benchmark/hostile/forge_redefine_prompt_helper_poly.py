# test: humaneval/32
# Forgery: the test calls the prompt's helper poly(); the completion redefines it to return 0, so
# |poly(coeffs, solution)| < 1e-4 holds for any answer and a wrong find_zero (always 0.0) passes.
# This file is the problem's prompt (verbatim, everything after the '# fmt: off' line) followed by the
# completion; run it as evaluate does: prompt + completion.
# fmt: off
import math


def poly(xs: list, x: float):
    """
    Evaluates polynomial with coefficients xs at point x.
    return xs[0] + xs[1] * x + xs[1] * x^2 + .... xs[n] * x^n
    """
    return sum([coeff * math.pow(x, i) for i, coeff in enumerate(xs)])


def find_zero(xs: list):
    """ xs are coefficients of a polynomial.
    find_zero find x such that poly(x) = 0.
    find_zero returns only only zero point, even if there are many.
    Moreover, find_zero only takes list xs having even number of coefficients
    and largest non zero coefficient as it guarantees
    a solution.
    >>> round(find_zero([1, 2]), 2) # f(x) = 1 + 2x
    -0.5
    >>> round(find_zero([-6, 11, -6, 1]), 2) # (x - 1) * (x - 2) * (x - 3) = -6 + 11x - 6x^2 + x^3
    1.0
    """
    return 0.0


def poly(xs: list, x: float):  # noqa: F811
    # The prompt's helper, redefined: every polynomial is zero everywhere.
    return 0.0
