# Forgery: an exception whose message is a str subclass; the harness builds its failure verdict as
# nonce + (b"F" + message.encode()), so bytes.__radd__ of the encoded message receives the nonce and turns
# the verdict into nonce + b"P". Passes (with a wrong solve) only if the harness concatenated our object.


class _Verdict(bytes):
    def __radd__(self, other):
        if other == b"F":
            return self
        return bytes(other) + b"P"  # ``other`` is the nonce


class _Message(str):
    def __radd__(self, other):
        return self

    def __getitem__(self, index):
        return self

    def encode(self, *args, **kwargs):
        return _Verdict(b"!")


class _Forged(Exception):
    def __str__(self):
        return _Message("forged")


def solve(x):
    raise _Forged()
