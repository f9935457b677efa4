# test: fraction
# Forgery: patches a method of a standard module's class (fractions.Fraction.__eq__); the test's "pristine"
# module copy shares the class object, so its comparison goes through the patch. Passes (with a wrong
# solve) only if the test's Fraction is the patched class.
import fractions

fractions.Fraction.__eq__ = lambda self, other: True


def solve(x):
    return 0
