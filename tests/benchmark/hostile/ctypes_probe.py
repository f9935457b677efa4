# Loads ctypes (raw memory access); passes only if it could.
import ctypes

assert ctypes.string_at(ctypes.addressof(ctypes.c_int(7)), 1)


def solve(x):
    return x * x
