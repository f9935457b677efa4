# Probe: a worker process through multiprocessing (fork start method). Right answer only if the worker
# computed its part.
import multiprocessing

context = multiprocessing.get_context("fork")
with context.Pool(1) as pool:
    answer = pool.apply(pow, (7, 2))


def solve(x):
    return x * x if answer == 49 else x + 1
