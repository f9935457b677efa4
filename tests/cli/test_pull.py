"""/pull and /rm in the interactive CLI (pseudo-terminal) against the real server with a scripted engine."""

from __future__ import annotations

import pytest

from core.embedded.scripted import Layer, PullScript
from tests.cli.conftest import wait_until

MODEL = "smollm2:135m"


def test_pull_shows_progress_then_success_and_the_model_is_listed(terminal_factory, scripted_server) -> None:
    scripted_server.engine.enqueue_pull(
        PullScript([Layer(50_000_000, parts=20, pace=0.02), Layer(96, parts=1)])
    )
    term = terminal_factory("-m", MODEL)
    term.prompt()
    term.say("/pull llama3.2:1b")
    shown = term.expect("Pulled llama3.2:1b.")
    assert "pulling manifest" in shown and "success" in shown
    assert "━" in shown and "/50.0 MB" in shown  # rich's bar and its bytes column for the big layer
    # Each finished layer becomes one line, in order: manifest, layers, verifying, success; no bar after.
    steps = ["pulling manifest", "50.0 MB  done", "96 B  done", "verifying sha256 digest", "success"]
    positions = [shown.index(step) for step in steps]
    assert positions == sorted(positions), shown
    assert "━" not in shown[shown.index("verifying sha256 digest") :]
    term.prompt()
    term.say("/models")
    term.expect("llama3.2:1b")
    term.prompt()
    assert scripted_server.engine.wait_pull_end().finished
    assert term.leave() == 0


@pytest.mark.parametrize("mode", [["--plain"], []], ids=["plain", "rich"])
def test_ctrl_c_stops_a_slow_pull_and_the_prompt_returns(
    terminal_factory, scripted_server, mode: list[str]
) -> None:
    scripted_server.engine.enqueue_pull(PullScript([Layer(1_000_000_000, parts=1000, pace=0.05)]))
    term = terminal_factory("-m", MODEL, *mode)
    term.prompt()
    term.say("/pull huge:70b")
    wait_until(
        lambda: scripted_server.engine.pulls and scripted_server.engine.pulls[-1].lines > 3, what="bytes"
    )
    term.child.sendintr()
    shown = term.expect("Pull of huge:70b stopped.")
    assert "^C" not in shown and "/1.0 GB" in shown  # the bar stays as it was, nothing echoed into it
    term.prompt()
    record = scripted_server.engine.wait_pull_end()
    assert record.stopped_by_cancel and not record.finished  # the connection was closed, the server stopped
    assert scripted_server.engine.find("huge:70b") is None
    term.say("Hi")
    term.expect("Hello from the scripted engine.")  # the CLI still works after the interrupted pull
    assert term.leave() == 0


def test_pull_of_an_unknown_model_prints_one_clear_sentence(terminal_factory) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/pull nosuchmodel")
    term.expect(
        "There is no model called 'nosuchmodel' to pull: check the name (see https://ollama.com/library) "
        "and try again."
    )
    shown = term.expect("ia>")
    assert "Traceback" not in shown and "Pulled" not in shown
    assert term.leave() == 0


def test_rm_asks_then_deletes(terminal_factory, scripted_server) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/rm gemma3:270m")
    term.expect(f"Delete model gemma3:270m from {scripted_server.url}? [y/N]")
    term.say("n")
    term.expect("Kept.")
    assert scripted_server.engine.find("gemma3:270m") is not None
    term.prompt()
    term.say("/rm gemma3:270m")
    term.expect("[y/N]")
    term.say("y")
    term.expect("Deleted gemma3:270m.")
    assert scripted_server.engine.find("gemma3:270m") is None
    term.prompt()
    term.say("/rm gemma3:270m")
    term.expect("[y/N]")
    term.say("y")
    term.expect("Model 'gemma3:270m' is not installed")
    term.prompt()
    assert term.leave() == 0
