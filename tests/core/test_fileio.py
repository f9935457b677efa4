"""core.fileio: atomic, durable replacement (fsync of the file and its folder), crashes and failed writes that
leave the old file, appends of whole lines; and every module that saves files doing it through core.fileio.

The system calls are read with strace (installed by the README's test command): what the kernel was asked to
do, in order, is the only honest proof that a file and its folder were fsynced.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.devlog import DevLog, DevRecord
from core.errors import StorageWriteError
from core.fileio import append_lines, atomic_write

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------------------------- strace


def _strace_works() -> bool:
    if not shutil.which("strace"):
        return False
    return subprocess.run(["strace", "-o", os.devnull, "true"], capture_output=True).returncode == 0


needs_strace = pytest.mark.skipif(
    not _strace_works(),
    reason="strace is missing or cannot trace here (the README's test command installs it)",
)

_CALL = re.compile(r"^(?:\[pid\s+\d+\]\s+|\d+\s+)?(\w+)\((.*)\)\s+=\s+(-?\d+)")
_PATHS = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _syscalls(code: str, tmp_path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """Run ``code`` in a fresh interpreter under strace: [(call, path or fd's path, paths)] of our files."""
    log = tmp_path / "strace.log"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    proc = subprocess.run(
        ["strace", "-f", "-e", "trace=open,openat,fsync,fdatasync,rename,renameat,renameat2,close",
         "-o", str(log), sys.executable, str(script), str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    fds: dict[str, str] = {}
    events = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _CALL.match(line)
        if not match:
            continue
        call, args, result = match.group(1), match.group(2), int(match.group(3))
        pid = line.split()[0] if line[0].isdigit() else ""
        paths = tuple(_PATHS.findall(args))
        if call in ("open", "openat") and result >= 0 and paths:
            fds[f"{pid}:{result}"] = paths[0]
            events.append((call, paths[0], paths))
        elif call in ("fsync", "fdatasync") and result == 0:
            events.append(("fsync", fds.get(f"{pid}:{args.strip()}", ""), ()))
        elif call.startswith("rename") and result == 0:
            events.append(("rename", paths[0], paths))
        elif call == "close":
            fds.pop(f"{pid}:{args.strip()}", None)
    return [event for event in events if str(tmp_path) in event[1]]


def _durable_replace_problems(events: list[tuple[str, str, tuple[str, ...]]], target: Path) -> list[str]:
    """What is missing from: temp file beside ``target`` opened, fsynced, renamed over it, folder fsynced."""
    folder, name = str(target.parent), target.name
    renames = [i for i, e in enumerate(events) if e[0] == "rename" and e[2][-1] == str(target)]
    if not renames:
        return [f"{name}: never renamed into place"]
    at = renames[-1]
    tmp = events[at][1]
    problems = []
    if not (os.path.dirname(tmp) == folder and os.path.basename(tmp).startswith(f".{name}.")):
        problems.append(f"{name}: renamed from {tmp}, not a temporary file beside it")
    if not any(e == ("fsync", tmp, ()) for e in events[:at]):
        problems.append(f"{name}: the temporary file was not fsynced before the rename")
    if not any(e == ("fsync", folder, ()) for e in events[at:]):
        problems.append(f"{name}: its folder was not fsynced after the rename")
    return problems


@needs_strace
def test_atomic_write_fsyncs_the_file_then_renames_then_fsyncs_the_folder(tmp_path: Path) -> None:
    events = _syscalls(
        """
        import sys
        from pathlib import Path
        from core.fileio import atomic_write
        target = Path(sys.argv[1]) / "folder" / "state.json"
        atomic_write(target, "first")
        atomic_write(target, b"second")
        """,
        tmp_path,
    )
    target = tmp_path / "folder" / "state.json"
    assert _durable_replace_problems(events, target) == []
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]  # no temporary file left


@needs_strace
def test_every_module_that_rewrites_a_file_writes_it_atomically_and_durably(tmp_path: Path) -> None:
    """The five former copies of an atomic write (config, conversation.md and profiles, benchmark records,
    preset Modelfiles; the model cache is checked by the scan below) each gave a different guarantee."""
    events = _syscalls(
        """
        import shutil, sys
        from datetime import UTC, datetime
        from pathlib import Path
        root = Path(sys.argv[1])
        from config import load_settings, save_settings
        settings = load_settings({"home": str(root / "home")}, env={})
        settings.model = "smollm2:135m"
        save_settings(settings, ["model"])
        from core.profiles import Profile, save_profile
        save_profile(settings, Profile(name="coder", model="m", system_prompt="Code only."))
        from core.conversation import Conversation, Message
        from core.session_manager import SessionManager
        now = datetime.now(UTC)
        conv = Conversation(title="Demo", slug="demo", created=now, updated=now,
                            messages=[Message("user", "hi", now)])
        SessionManager(settings).save(conv)
        from core.benchmark.records import write_json, write_lines
        write_json(root / "bench" / "summary.json", {"pass@1": 1.0})
        write_lines(root / "bench" / "results.jsonl", [{"task_id": "t/0", "passed": True}])
        from core.benchmark.presets import CONFIGS_DIR
        from tools.update_system_prompt import update_modelfile
        shutil.copytree(CONFIGS_DIR / "phi_tests", root / "presets" / "phi_tests")
        update_modelfile(root / "presets" / "phi_tests" / "Modelfile", "Answer in code only.")
        """,
        tmp_path,
    )
    home = tmp_path / "home"
    targets = [
        home / "config.toml",
        home / "profiles" / "coder.toml",
        home / "sav" / "demo" / "conversation.md",
        tmp_path / "bench" / "summary.json",
        tmp_path / "bench" / "results.jsonl",
        tmp_path / "presets" / "phi_tests" / "Modelfile",
    ]
    assert [problem for target in targets for problem in _durable_replace_problems(events, target)] == []


@needs_strace
def test_append_lines_fsyncs_only_when_asked(tmp_path: Path) -> None:
    events = _syscalls(
        """
        import sys
        from pathlib import Path
        from core.fileio import append_lines
        root = Path(sys.argv[1])
        append_lines(root / "logs" / "plain.log", "one\\n")
        append_lines(root / "data" / "samples.jsonl", '{"n": 1}\\n', sync=True)
        """,
        tmp_path,
    )
    fsynced = [path for call, path, _ in events if call == "fsync"]
    samples = tmp_path / "data" / "samples.jsonl"
    assert str(samples) in fsynced and str(samples.parent) in fsynced  # a new file: its folder too
    assert str(tmp_path / "logs" / "plain.log") not in fsynced


# ---------------------------------------------------------------------------------------------- atomic_write


def test_atomic_write_replaces_the_file_and_returns_its_path(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "note.txt"
    assert atomic_write(path, "é 中\n") == path  # folders are made; str is written as UTF-8
    assert path.read_bytes() == "é 中\n".encode()
    atomic_write(path, b"\x00binary")
    assert path.read_bytes() == b"\x00binary"


def test_atomic_write_keeps_the_file_s_permissions(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    atomic_write(path, "a = 1\n")
    path.chmod(0o600)  # the user made it private
    atomic_write(path, "a = 2\n")
    assert (path.stat().st_mode & 0o777, path.read_text()) == (0o600, "a = 2\n")


_CHILD_WRITE = """
import resource, signal, sys
from pathlib import Path
from core.fileio import atomic_write
from core.errors import StorageWriteError
signal.signal(signal.SIGXFSZ, signal.SIG_DFL if sys.argv[2] == "crash" else signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))  # a file may not grow past 64 KiB
try:
    atomic_write(Path(sys.argv[1]), b"new " * 1_000_000)
except StorageWriteError as exc:
    print(exc)
    sys.exit(3)
"""


def _write_in_child(path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CHILD_WRITE, str(path), mode],
        capture_output=True, text=True, timeout=60, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
    )  # fmt: skip


def test_a_crash_in_the_middle_of_a_write_leaves_the_old_file(tmp_path: Path) -> None:
    """The kernel kills the writer (SIGXFSZ: past its file size limit) after 64 KiB of 4 MB were written."""
    path = tmp_path / "demo" / "conversation.md"
    atomic_write(path, b"old content")
    proc = _write_in_child(path, "crash")
    assert proc.returncode == -signal.SIGXFSZ, proc.stderr
    assert path.read_bytes() == b"old content"
    leftovers = [p for p in path.parent.iterdir() if p != path]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".conversation.md.")  # the cut temp file
    assert leftovers[0].stat().st_size == 64 * 1024


def test_a_failed_write_leaves_the_old_file_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "conversation.md"
    atomic_write(path, b"old content")
    proc = _write_in_child(path, "fail")  # EFBIG: a real refusal by the kernel
    assert proc.returncode == 3, proc.stderr
    assert f"Cannot write {path}: the file is larger than this system allows" in proc.stdout
    assert path.read_bytes() == b"old content"
    assert [p.name for p in path.parent.iterdir()] == ["conversation.md"]  # no temp file left behind


def test_atomic_write_keeps_the_old_file_when_the_disk_is_full(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "demo" / "conversation.md"
    atomic_write(path, b"old content")

    # A full disk cannot be produced in a test sandbox (no tiny tmpfs); ENOSPC is injected at os.write.
    def full(fd: int, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StorageWriteError, match="disk is full"):
        atomic_write(path, b"new content")
    monkeypatch.undo()
    assert path.read_bytes() == b"old content"
    assert [p.name for p in path.parent.iterdir()] == ["conversation.md"]  # no temp file left behind


def test_atomic_write_under_a_file_reports_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("not a folder")
    with pytest.raises(StorageWriteError, match="is a file, not a folder"):
        atomic_write(blocker / "sav" / "x" / "conversation.md", b"data")
    with pytest.raises(StorageWriteError, match="is a file, not a folder"):  # the parent itself is the file
        atomic_write(blocker / "conversation.md", b"data")
    assert blocker.read_text() == "not a folder"


# ---------------------------------------------------------------------------------------------- append_lines


def test_append_lines_adds_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "chat.log"
    append_lines(path, "first\n")
    append_lines(path, "second")  # the line break is added
    append_lines(path, b"third\nfourth\n")
    assert path.read_text() == "first\nsecond\nthird\nfourth\n"


def test_a_line_cut_by_a_crash_does_not_swallow_the_next_record(ia_home: Path) -> None:
    """A crash left half a JSON line at the end of dev_responses.jsonl: the next record still reads."""
    from config import load_settings

    devlog = DevLog(load_settings({}))
    devlog.jsonl_path.parent.mkdir(parents=True)
    devlog.jsonl_path.write_text('{"time": "2026-01-01", "sess', encoding="utf-8")
    devlog.record(DevRecord(time="2026-01-02", session="demo", model="m", host="h"))
    records = devlog.read()
    assert [r.session for r in records] == ["demo"] and devlog.skipped == 1


_CHILD_APPEND = """
import sys
from pathlib import Path
from core.fileio import append_lines
path, tag = Path(sys.argv[1]), sys.argv[2]
for n in range(200):
    append_lines(path, f"{tag}:{n}:" + tag * 30_000 + "\\n")
"""


def test_appends_from_several_processes_never_mix_inside_a_line(tmp_path: Path) -> None:
    path = tmp_path / "shared.log"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen([sys.executable, "-c", _CHILD_APPEND, str(path), tag], cwd=REPO, env=env)
        for tag in "abcd"
    ]
    assert [proc.wait(timeout=120) for proc in procs] == [0, 0, 0, 0]
    lines = path.read_text().splitlines()
    assert len(lines) == 800  # no blank line either: no appender took another's write for a cut line
    for line in lines:
        tag, number, body = line.split(":")
        assert body == tag * 30_000 and 0 <= int(number) < 200
    for tag in "abcd":  # each writer's lines, in its own order
        assert [int(line.split(":")[1]) for line in lines if line[0] == tag] == list(range(200))


def test_append_lines_says_why_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StorageWriteError, match="is a file, not a folder"):
        append_lines(blocker / "chat.log", "x\n")


# ---------------------------------------------------------------------------------------------- one module

# Calls that make a write atomic, durable or an append (fsync, temporary files, renames, append mode): only
# core/fileio.py may make them.
# Calls a module may make for another reason than finishing a write, each with why: a session's log follows
# its new slug and a deleted session goes to the trash first (renames of whole things); a preset copied for
# editing is renamed into place once complete; a model download is appended to its partial file as it arrives
# (a cut pull resumes from there) and renamed to its blob once its sha256 checks. Add a module here only with
# such a reason.
_ALLOWED = {
    "core/embedded/hf_pull.py": {"open(append)", "replace()"},
    "core/session_manager.py": {"replace()", "rename()"},
    "core/benchmark/presets.py": {"replace()"},
    # the compiled catalogs' cache: whole or absent, compiled again from the .po files when missing or damaged;
    # core.fileio cannot be used there (core.errors, which it imports, imports core.i18n)
    "core/i18n.py": {"replace()"},
}


def _write_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "O_APPEND":
            found.append(f"{node.lineno}: O_APPEND")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        on_os = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "os"
        if name in ("fsync", "fdatasync", "mkstemp", "NamedTemporaryFile"):
            found.append(f"{node.lineno}: {name}()")
        elif name in ("replace", "rename") and (on_os or (len(node.args) == 1 and not node.keywords)):
            found.append(
                f"{node.lineno}: {name}()"
            )  # os.replace(a, b), path.replace(b); not str.replace(a, b)
        elif name == "open":  # open(path, "a"), path.open("ab")
            modes = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            modes += [
                k.value.value for k in node.keywords if k.arg == "mode" and isinstance(k.value, ast.Constant)
            ]
            if any("a" in mode and set(mode) <= set("abt+") for mode in modes):
                found.append(f"{node.lineno}: open(append)")
    return found


def test_only_core_fileio_makes_writes_atomic_durable_or_appended() -> None:
    offenders = {}
    for folder in ("core", "cli", "ui", "benchcli", "tools"):
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel == "core/fileio.py" or rel.startswith("core/benchmark/suites/"):
                continue
            calls = _write_calls(path)
            calls = [c for c in calls if c.split(": ", 1)[1] not in _ALLOWED.get(rel, set())]
            if calls:
                offenders[rel] = calls
    for module in ("config.py", "main.py", "main_ui.py", "main_benchmark.py"):
        if calls := _write_calls(REPO / module):
            offenders[module] = calls
    assert offenders == {}, "use core.fileio (atomic_write / append_lines) instead: " + json.dumps(offenders)
