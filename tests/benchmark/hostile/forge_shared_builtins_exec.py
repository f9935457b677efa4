# Forgery: replaces the harness's own compile() through the builtins dict the sample shares with it, so the
# test that gets compiled is an empty check(); passes (with a wrong solve) only if the harness ran it.
# (exec(code, {}) gives the sample the builtins of the frame that called exec: the harness's private copy.)
_shared_builtins = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
_real_compile = _shared_builtins["compile"]


def _compile(source, filename, mode, *args, **kwargs):
    if filename == "<test>":
        source = "def check(candidate):\n    pass\n"
    return _real_compile(source, filename, mode, *args, **kwargs)


_shared_builtins["compile"] = _compile


def solve(x):
    return 0
