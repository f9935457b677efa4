# Probe: four threads each take 40% of the address-space limit and hold it at once (160% in all). Threads
# share one process, so the limit must count them together. Right answer only if all four held their part.
import resource
import threading

limit = resource.getrlimit(resource.RLIMIT_AS)[0]
part = int(limit * 0.4) if limit > 0 else 1 << 30
barrier = threading.Barrier(4, timeout=20)
held = []


def take():
    try:
        block = bytearray(part)
        block[:: 1 << 12] = b"\x01" * len(block[:: 1 << 12])
        held.append(block)
        barrier.wait()
    except (MemoryError, threading.BrokenBarrierError):
        barrier.abort()


threads = [threading.Thread(target=take) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ok = len(held) == 4


def solve(x):
    return x * x if ok else x + 1
