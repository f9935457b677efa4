# Raises GeneratorExit out of the candidate.
def solve(x):
    raise GeneratorExit
