# Floods stdout and stderr, through Python and through the raw descriptors.
import os
import sys

chunk = "x" * 65536
while True:
    sys.stdout.write(chunk)
    sys.stderr.write(chunk)
    os.write(1, chunk.encode())
    os.write(2, chunk.encode())
