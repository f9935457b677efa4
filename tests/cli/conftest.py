"""CLI test helpers: run main.py as a person would, in a pseudo-terminal (pexpect) or as a one-shot process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

from core.conversation import Conversation
from core.sav_manager import read_conversation

REPO = Path(__file__).resolve().parents[2]
MAIN = str(REPO / "main.py")
PROMPT = "ia>"


def wait_until(condition: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> object:
    """Poll ``condition`` until it is truthy; fail the test with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def cli_env(host: str, home: Path, **extra: str) -> dict[str, str]:
    """Environment of a CLI child: our server and home, a terminal prompt_toolkit can drive without CPR."""
    env = dict(os.environ)
    env.update(
        OLLAMA_HOST=host,
        IA_HOME=str(home),
        IA_EMBEDDED="off",
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("IA_MODEL", None)
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], *, stdin: bytes | str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run main.py once (one-shot) and capture stdout/stderr as text."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [sys.executable, MAIN, *args],
        input=data if data is not None else b"",
        capture_output=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def conversations(home: Path) -> list[Conversation]:
    """Every saved conversation under a home, parsed from disk."""
    return [read_conversation(p) for p in sorted((home / "sav").glob("*/conversation.md"))]


def only_conversation(home: Path) -> Conversation:
    convs = conversations(home)
    assert len(convs) == 1, f"expected one conversation, found {[c.slug for c in convs]}"
    return convs[0]


class Terminal:
    """An interactive main.py in a pseudo-terminal."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.child = pexpect.spawn(
            sys.executable,
            [MAIN, *args],
            env=env,
            cwd=str(REPO),
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(50, 160),
            timeout=20,
        )

    def prompt(self) -> None:
        """Wait for the input prompt."""
        self.child.expect_exact(PROMPT)

    def say(self, line: str) -> None:
        """Type a line and press Enter."""
        self.child.sendline(line)

    def expect(self, text: str, timeout: float = 20) -> str:
        """Wait for ``text`` (exact); returns everything printed before it."""
        self.child.expect_exact(text, timeout=timeout)
        return self.child.before

    def leave(self) -> int:
        """Press Ctrl-D at the prompt and return the exit status.

        A Ctrl-D typed while the terminal is between prompts (cooked mode) is swallowed by the line
        discipline, as it would be for a person typing too early; press it again until the CLI leaves.
        """
        for _ in range(20):
            self.child.sendeof()
            if self.child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=1) == 0:
                break
        else:
            pytest.fail("the CLI did not leave on Ctrl-D")
        # EOF is the terminal closing; the process may still be finishing (a loaded machine): wait for its
        # status rather than let close() end it with a signal (exitstatus None).
        status = self.child.wait()
        self.child.close()
        return status

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def cli_home(ia_home: Path) -> Path:
    return ia_home


@pytest.fixture
def terminal_factory(scripted_server, ia_home: Path) -> Iterator[Callable[..., Terminal]]:
    """Start interactive CLIs against the scripted server; all are closed at the end of the test."""
    started: list[Terminal] = []

    def start(*args: str, **env_extra: str) -> Terminal:
        term = Terminal(list(args), cli_env(scripted_server.url, ia_home, **env_extra))
        started.append(term)
        return term

    yield start
    for term in started:
        term.close()
