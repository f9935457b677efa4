# test: humaneval/38
# Forgery: the test calls the prompt's helper encode_cyclic(); the completion redefines it as the
# identity, so a wrong decode_cyclic (also the identity) passes.
# This file is the problem's prompt (verbatim, everything after the '# fmt: off' line) followed by the
# completion; run it as evaluate does: prompt + completion.
# fmt: off


def encode_cyclic(s: str):
    """
    returns encoded string by cycling groups of three characters.
    """
    # split string to groups. Each of length 3.
    groups = [s[(3 * i):min((3 * i + 3), len(s))] for i in range((len(s) + 2) // 3)]
    # cycle elements in each group. Unless group has fewer elements than 3.
    groups = [(group[1:] + group[0]) if len(group) == 3 else group for group in groups]
    return "".join(groups)


def decode_cyclic(s: str):
    """
    takes as input string encoded with encode_cyclic function. Returns decoded string.
    """
    return s


def encode_cyclic(s: str):  # noqa: F811
    # The prompt's helper, redefined as the identity.
    return s
