# Deletes a file and its folder outside the sandbox; passes only if that worked.
import os
import shutil

os.remove("__CANARY__")
shutil.rmtree("__CANARY_DIR__")


def solve(x):
    return x * x
