# Copies a native extension into the sandbox and loads it (native code could bypass every Python guard);
# passes only if the load worked.
import glob
import importlib.machinery
import importlib.util
import os
import shutil
import sys

source = next(path for folder in sys.path for path in glob.glob(folder + "/_bz2*.so"))
shutil.copy(source, "ext.txt")
loader = importlib.machinery.ExtensionFileLoader("_bz2", os.path.abspath("ext.txt"))
spec = importlib.util.spec_from_file_location("_bz2", os.path.abspath("ext.txt"), loader=loader)
module = importlib.util.module_from_spec(spec)
assert module.BZ2Compressor


def solve(x):
    return x * x
