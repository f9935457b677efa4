"""What crosses the sandbox boundary: only plain data of exact built-in types, bounded, in well-formed frames.

The codec (harness/wire.py) and the peers (harness/rpc.py) run here in-process over real pipes; the judge's
side of a Peer is the untrusting one, so every malformed message must end as SampleBroke, never as a value.
"""

from __future__ import annotations

import collections
import enum
import fractions
import os
import threading
import time
from decimal import Decimal

import pytest

from core.benchmark.harness import rpc
from core.benchmark.harness.rpc import Peer, RemoteFunction, RemoteIterator, SampleBroke
from core.benchmark.harness.wire import (
    MAX_DEPTH,
    Bad,
    Closed,
    Codec,
    FrameReader,
    NotPlain,
    TimedOut,
    write_frame,
)

CODEC = Codec()


def roundtrip(value):
    return CODEC.decode(CODEC.encode(value))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**200,
        -0.0,
        1.5e300,
        float("inf"),
        "",
        "é 漢字 \x00 \udc80",
        b"\x00\xff",
        bytearray(b"ab"),
        (1, (2, [3])),
        [1, "a", None, [2.5, (3,)]],
        {"k": [1], 2: (3,), (1, 2): {4}},
        {1, "a", (2, 3)},
        frozenset({1, 2}),
        3 + 4j,
        range(2, 20, 3),
        Ellipsis,
        fractions.Fraction(3, 7),
        Decimal("1.10"),
    ],
)
def test_plain_values_come_back_equal_and_of_the_same_exact_type(value):
    back = roundtrip(value)
    assert type(back) is type(value)
    assert back == value or (isinstance(value, float) and str(back) == str(value))
    if type(value) is float:
        assert str(back) == str(value)  # -0.0 stays -0.0


def test_nan_and_dict_order_and_views():
    nan = roundtrip(float("nan"))
    assert nan != nan
    ordered = roundtrip({"b": 1, "a": 2})
    assert list(ordered) == ["b", "a"]
    data = {"x": 1, "y": 2}
    assert roundtrip(data.keys()) == {"x", "y"} and type(roundtrip(data.keys())) is type(data.keys())
    assert list(roundtrip(data.values())) == [1, 2]
    assert roundtrip(data.items()) == data.items()


def test_subclasses_arrive_as_their_built_in_value():
    class Colour(enum.IntEnum):
        RED = 1

    class Loud(str):
        def __eq__(self, other):
            return True

    point = collections.namedtuple("Point", "x y")(1, 2)
    counter = collections.Counter("aab")
    for value, expected in [
        (Colour.RED, 1),
        (point, (1, 2)),
        (counter, {"a": 2, "b": 1}),
        (collections.defaultdict(int, {"k": 3}), {"k": 3}),
        (collections.OrderedDict(z=1), {"z": 1}),
        (Loud("x"), "x"),
    ]:
        back = roundtrip(value)
        assert back == expected and type(back) is type(expected), (value, back)
    assert roundtrip(Loud("x")) != "y"  # the subclass's always-true __eq__ did not travel


def test_objects_that_are_not_plain_data_are_refused():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    for value in (AlwaysEqual(), [AlwaysEqual()], {"k": AlwaysEqual()}, object(), os, lambda: 1, iter([1])):
        with pytest.raises(NotPlain):
            CODEC.encode(value)


def test_size_and_depth_limits():
    deep = [1]
    for _ in range(3000):
        deep = [deep]
    assert CODEC.encode(roundtrip(deep)) == CODEC.encode(deep)  # ia_basic's flatten sends 3,000 levels
    too_deep = [1]
    for _ in range(MAX_DEPTH + 5):
        too_deep = [too_deep]
    with pytest.raises(Bad):
        CODEC.encode(too_deep)
    with pytest.raises(Bad):
        CODEC.decode(("[" * (MAX_DEPTH * 5) + "]" * (MAX_DEPTH * 5)).encode())
    with pytest.raises(Bad):
        CODEC.decode(b"1" * 200_000)  # an int of more digits than the judge accepts
    big = list(range(0, 2_000_000, 2))
    assert roundtrip(big) == big


@pytest.mark.parametrize(
    "data",
    [
        b"{",
        b'{"a": 1, "b": 2}',
        b'{"zz": 1}',
        b'{"t": 5}',
        b'{"d": [[1]]}',
        b'{"d": [[[1], 2]]}',
        b'{"B": "exec"}',
        b'{"B": "__import__"}',
        b'{"F": 3}',
        b'{"I": 1}',
        b'{"c": ["1", 2]}',
        b'{"q": [1, 0]}',
        b'{"b": "not base64!"}',
        b"\xff\xfe",
    ],
)
def test_anything_else_is_a_protocol_error(data):
    with pytest.raises(Bad):
        CODEC.decode(data)


def test_frames_have_a_cap_a_deadline_and_an_end():
    read_fd, write_fd = os.pipe()
    try:
        reader = FrameReader(read_fd, cap=16)
        write_frame(write_fd, b"hello")
        assert reader.read(time.monotonic() + 1) == b"hello"
        started = time.monotonic()
        with pytest.raises(TimedOut):
            reader.read(time.monotonic() + 0.2)
        assert 0.15 < time.monotonic() - started < 2
        os.write(write_fd, (1000).to_bytes(4, "big"))
        with pytest.raises(Bad):
            reader.read(time.monotonic() + 1)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"\x00\x00")
    os.close(write_fd)
    with pytest.raises(Closed):
        FrameReader(read_fd).read(time.monotonic() + 1)
    os.close(read_fd)


@pytest.fixture
def peers():
    """A judge-side peer and a sample-side peer serving in a thread, over two real pipes."""
    rpc.BROKEN.clear()
    to_sample = os.pipe()
    from_sample = os.pipe()
    sample = Peer(to_sample[0], from_sample[1], trusting=True)
    judge = Peer(from_sample[0], to_sample[1], trusting=False, deadline=time.monotonic() + 20)
    thread = threading.Thread(target=sample.serve, daemon=True)
    thread.start()
    yield judge, to_sample, from_sample
    os.close(to_sample[1])  # the sample's side reads end of file and stops serving
    thread.join(timeout=10)
    for fd in (to_sample[0], *from_sample):
        os.close(fd)
    rpc.BROKEN.clear()


def _load(judge: Peer, program: str) -> dict:
    reply = judge.request(("load", program), fast=True)
    assert reply[0] == "ready", reply
    assert all(isinstance(proxy, RemoteFunction) for proxy in reply[1].values())
    return reply[1]


def test_calls_errors_writes_iterators_and_callbacks(peers):
    judge, *_ = peers
    functions = _load(
        judge,
        "def square(x):\n    return x * x\n"
        "def neg(x):\n    raise ValueError('negative', x)\n"
        "def sort_it(items):\n    items.sort()\n    return len(items)\n"
        "def evens():\n    n = 0\n    while True:\n        yield n\n        n += 2\n"
        "def apply(f, xs):\n    return [f(x) for x in xs]\n"
        "class Custom(Exception):\n    pass\n"
        "def custom():\n    raise Custom('mine')\n"
        "def leave():\n    raise SystemExit(0)\n",
    )
    assert functions["square"](12) == 144
    with pytest.raises(ValueError) as caught:
        functions["neg"](-1)
    assert caught.value.args == ("negative", -1) and caught.value.ia_sample_error.startswith("ValueError")
    with pytest.raises(Exception) as caught:
        functions["custom"]()
    assert type(caught.value) is Exception and "mine" in str(caught.value)  # nearest built-in type
    items = [3, 1, 2]
    inner = items
    assert functions["sort_it"](items) == 3 and items == [1, 2, 3] and items is inner
    evens = functions["evens"]()
    assert isinstance(evens, RemoteIterator)
    assert [next(evens) for _ in range(5)] == [0, 2, 4, 6, 8]
    assert functions["apply"](lambda v: v + 1, [1, 2]) == [2, 3]
    assert functions["apply"](len, ["ab", ""]) == [2, 0]
    assert not rpc.BROKEN
    with pytest.raises(SampleBroke):
        functions["leave"]()
    assert rpc.BROKEN  # an abort is remembered even if a test catches it


@pytest.mark.parametrize(
    "garbage",
    [
        b"J" + b'{"t": ["ok", {"zz": 1}, []]}',
        b"M" + __import__("marshal").dumps(("ok", 1, [])),  # the judge never unmarshals
        b"J" + b'{"t": ["call", 1, {"t": []}, {"d": []}]}',  # the judge serves no calls
        b"J" + b'{"t": ["ok", 1, [[99, 2]]]}',  # a write to an argument that was never sent
        b"X garbage",
    ],
)
def test_a_malformed_reply_breaks_the_sample_never_answers(garbage):
    rpc.BROKEN.clear()
    to_sample = os.pipe()
    from_sample = os.pipe()
    judge = Peer(from_sample[0], to_sample[1], trusting=False, deadline=time.monotonic() + 5)
    write_frame(from_sample[1], garbage)
    with pytest.raises(SampleBroke):
        judge.call(1, (5,), {})
    assert rpc.BROKEN
    for fd in (*to_sample, *from_sample):
        os.close(fd)


def test_a_sample_that_ends_mid_call_or_stays_silent(peers):
    judge, to_sample, from_sample = peers
    functions = _load(judge, "import os, time\ndef die():\n    os._exit(0)\ndef hang():\n    time.sleep(2)\n")
    judge.deadline = time.monotonic() + 0.5
    with pytest.raises(SampleBroke) as caught:
        functions["hang"]()
    assert caught.value.reason == "timeout"


def test_sync_keeps_inner_objects_and_replaces_what_changed_shape():
    row = [1, 2]
    grid = [row, [3, 4]]
    assert rpc.sync(grid, [[9, 2], [3, 4]]) is grid and grid[0] is row and row == [9, 2]
    grid2 = [[1], [2]]
    rpc.sync(grid2, [[1]])
    assert grid2 == [[1]]
    mapping = {"a": [1]}
    rpc.sync(mapping, {"b": 2})
    assert mapping == {"b": 2}
    pair = ([1], 2)
    rpc.sync(pair, ([5, 6], 2))
    assert pair == ([5, 6], 2)
