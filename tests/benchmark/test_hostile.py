"""The hostile corpus (tests/benchmark/hostile/) is contained at every isolation level and never passes.

Each snippet is the code of a sample whose entry point ``solve`` must square its argument. Snippets that
probe a capability (reading a secret, connecting out, writing outside) return the right answer only after the
attack worked, so a successful escape shows up as a pass. After every run: the canaries outside the sandbox
are unchanged, the loopback server saw no connection, a root process the test owns is alive, and no process
of the sandbox's uid range remains.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from core.benchmark.sandbox import ISOLATION_LEVELS, Limits, Sandbox, sandbox_uid_range
from core.errors import SandboxUnavailable

HOSTILE = Path(__file__).with_name("hostile")
REPO = Path(__file__).resolve().parents[2]
SNIPPETS = sorted(path.stem for path in HOSTILE.glob("*.py"))
EQ_TEST = (
    "def check(candidate):\n"
    "    assert candidate(2) == 4\n"
    "    assert candidate(3) == 9\n"
    "    assert candidate(-4) == 16\n"
)
BUILTINS_TEST = (
    "import math\n\n"
    "def check(candidate):\n"
    "    assert abs(candidate(3) - 9) < 1e-9\n"
    "    assert all(candidate(x) == x * x for x in range(-3, 4))\n"
    "    assert isinstance(candidate(4), int)\n"
    "    assert math.isclose(candidate(6), 36)\n"
)
HELPER_TEST = "def check(candidate):\n    for x in (2, 3, -4):\n        assert reference(x) == candidate(x)\n"
MATH_TEST = (
    "import math\n\n"
    "def check(candidate):\n"
    "    assert math.isclose(candidate(3), 9)\n"
    "    assert math.isclose(candidate(-2), 4)\n"
)
CORRECT = "def reference(x):\n    return x * x\n\n\ndef solve(x):\n    return x * x\n"
# What only some levels isolate: rlimits and unshare share the host file system; rlimits shares the network.
NEEDS = {
    "network_loopback": {"bwrap", "unshare"},
    "network_outside": {"bwrap", "unshare"},
    "write_world_writable": {"bwrap"},
    "read_repository": {"bwrap"},
}
# Attacks that really work against a naive harness (exec the program, pass if the exit status is 0).
NAIVE_FOOLED = [
    "forge_sys_exit_top",
    "forge_os_exit_in_candidate",
    "forge_always_equal",
    "forge_int_subclass_eq",
    "forge_list_subclass_eq",
    "forge_helper_always_equal",
    "forge_patch_math",
    "forge_patch_builtins",
    "forge_patch_builtins_dict",
    "forge_write_every_fd",
    "nonce_from_environment",
]
HOME_ENTRY = sorted(os.listdir("/root"))[0] if os.access("/root", os.R_OK) and os.listdir("/root") else ""
LIMITS = Limits(timeout_s=1.0, memory_mb=512, nproc=32)


@dataclass
class World:
    """Things outside the sandbox that hostile code must not reach."""

    root: Path
    canary: Path
    secret: Path
    open_canary: Path
    port: int
    connections: list[bytes] = field(default_factory=list)
    bystander: subprocess.Popen | None = None

    def substitute(self, code: str) -> str:
        for key, value in {
            "__CANARY_DIR__": str(self.canary.parent),
            "__CANARY__": str(self.canary),
            "__OPEN_CANARY__": str(self.open_canary),
            "__SECRET__": str(self.secret),
            "__PORT__": str(self.port),
            "__REPO__": str(REPO),
            "__HOME_ENTRY__": HOME_ENTRY,
        }.items():
            code = code.replace(key, value)
        return code

    def assert_untouched(self) -> None:
        assert self.canary.read_text() == "canary"
        assert self.secret.read_text() == "secret"
        assert self.open_canary.read_text() == "open canary"
        assert self.connections == []
        assert self.bystander is not None and self.bystander.poll() is None, "a process outside was killed"


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _sandbox_processes() -> list[psutil.Process]:
    """Live processes under any uid this test process's sandboxes use."""
    uids_used = sandbox_uid_range()
    found = []
    for proc in psutil.process_iter(["uids", "status"]):
        uids = proc.info["uids"]
        if uids and uids.real in uids_used and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


@pytest.fixture
def world():
    root = Path(tempfile.mkdtemp(prefix="ia-hostile-", dir="/tmp"))
    os.chmod(root, 0o755)
    canary_dir = root / "canary"
    canary_dir.mkdir(mode=0o755)
    canary = canary_dir / "canary.txt"
    canary.write_text("canary")
    os.chmod(canary, 0o644)
    secret = root / "secret.txt"
    secret.write_text("secret")
    os.chmod(secret, 0o600)
    open_dir = root / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    open_canary = open_dir / "open.txt"
    open_canary.write_text("open canary")
    os.chmod(open_canary, 0o666)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    state = World(root, canary, secret, open_canary, server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    state.connections.append(conn.recv(100) or b"<connected>")
                except OSError:
                    state.connections.append(b"<connected>")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    state.bystander = subprocess.Popen(["sleep", "300"])
    yield state
    stop.set()
    thread.join(timeout=5)
    server.close()
    state.bystander.kill()
    state.bystander.wait()
    shutil.rmtree(root, ignore_errors=True)


def _level(name: str) -> Sandbox:
    try:
        return Sandbox.detect(name)
    except SandboxUnavailable as error:
        if name == "bwrap" and shutil.which("bwrap"):  # installed but failing: our mounts are wrong
            pytest.fail(f"bwrap is installed but the bwrap level fails: {error}")
        pytest.skip(f"isolation level {name} unavailable here: {error}")


def _code(name: str, world: World) -> tuple[str, str]:
    text = (HOSTILE / f"{name}.py").read_text()
    if text.startswith("# test: builtins"):
        test = BUILTINS_TEST
    elif text.startswith("# test: math"):
        test = MATH_TEST
    elif text.startswith("# test: helper"):
        test = HELPER_TEST
    else:
        test = EQ_TEST
    return world.substitute(text), test


def test_corpus_is_large_enough():
    assert len(SNIPPETS) >= 30


@pytest.mark.parametrize("level", ISOLATION_LEVELS)
def test_correct_solution_passes_at_every_level(level, world):
    box = _level(level)
    for test in (EQ_TEST, BUILTINS_TEST, HELPER_TEST, MATH_TEST):
        result = box.run(CORRECT, test, "solve", Limits(timeout_s=10))
        assert result.passed, result.result
        assert result.isolation == level


@pytest.mark.parametrize("name", SNIPPETS)
@pytest.mark.parametrize("level", ISOLATION_LEVELS)
def test_hostile_snippet_is_contained(level, name, world):
    if level not in NEEDS.get(name, set(ISOLATION_LEVELS)):
        pytest.skip(f"the {level} level does not isolate what {name} attacks (documented)")
    if name == "kill_everything" and os.geteuid() != 0:
        pytest.skip("kill(-1) is only safe when the sandbox runs under a uid of its own (root parent)")
    if name == "read_root_home" and not HOME_ENTRY:
        pytest.skip("/root is empty or unreadable here, nothing to detect")
    box = _level(level)
    code, test = _code(name, world)
    result = box.run(code, test, "solve", LIMITS)
    assert not result.passed, f"{name} passed at level {level}: {result.result}"
    assert result.result != "passed"
    world.assert_untouched()
    assert _sandbox_processes() == [], "processes outlived the sandbox"


@pytest.mark.parametrize("name", ["network_loopback", "read_repository", "write_world_writable"])
def test_probes_detect_an_escape_where_isolation_is_absent(name, world):
    """The capability probes are real: at the rlimits level (no namespaces) the attack works and passes."""
    code, test = _code(name, world)
    result = _level("rlimits").run(code, test, "solve", Limits(timeout_s=10))
    assert result.passed, result.result
    if name == "network_loopback":
        assert wait_until(lambda: world.connections == [b"escaped"])
    if name == "write_world_writable":
        assert world.open_canary.read_text() == "owned"


def test_whole_corpus_in_one_pooled_batch_then_nothing_remains(world):
    """The way evaluate_samples runs (long-lived per-worker sandboxes): no snippet passes, a correct sample
    after each hostile one still passes, and closing the pool leaves no process behind."""
    box = _level("bwrap")
    names = [n for n in SNIPPETS if n != "read_root_home" or HOME_ENTRY]
    with box.prewarmed(2):
        for name in names:
            code, test = _code(name, world)
            result = box.run(code, test, "solve", LIMITS)
            assert not result.passed, f"{name} passed in a pooled sandbox: {result.result}"
            after = box.run(CORRECT, test, "solve", Limits(timeout_s=10))
            assert after.passed, f"after {name}: {after.result}"
            world.assert_untouched()
    assert _sandbox_processes() == []


@pytest.mark.parametrize("name", NAIVE_FOOLED)
def test_forgeries_fool_a_naive_harness_but_not_ours(name, world, tmp_path):
    code, test = _code(name, world)
    program = code + "\n" + test + "\ncheck(solve)\n"
    naive = subprocess.run(
        [sys.executable, "-I", "-c", program], cwd=tmp_path, capture_output=True, timeout=30
    )
    assert naive.returncode == 0, f"{name} is not a real forgery: {naive.stderr[-300:]!r}"
    result = _level("bwrap").run(code, test, "solve", LIMITS)
    assert not result.passed, result.result
