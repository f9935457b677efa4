"""End to end with the real bundled model (llama.cpp): a one-shot prompt answered and saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import cli_env, conversations, only_conversation, run_cli, wait_until

pytestmark = pytest.mark.model


def _short_replies(home: Path) -> None:
    # Keep the real model's answer short so the test stays quick on two shared cores.
    (home / "config.toml").write_text("[options]\nnum_predict = 24\ntemperature = 0.0\n", "utf-8")


def test_oneshot_with_the_real_embedded_server(embedded_server, ia_home: Path) -> None:
    _short_replies(ia_home)
    result = run_cli(
        ["-m", "smollm2:135m", "--json", "What is the capital of France?"],
        cli_env(embedded_server.url, ia_home),
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["reply"].strip()
    assert record["model"] == "smollm2:135m" and record["stats"]["eval_count"] > 0
    conv = only_conversation(ia_home)
    assert (ia_home / "sav" / conv.slug / "conversation.md").is_file()
    assert conv.messages[-1].content == record["reply"] and conv.messages[-1].status == "complete"


def test_oneshot_falls_back_to_the_embedded_backend(ia_home: Path) -> None:
    pytest.importorskip("llama_cpp", reason="the embedded backend needs llama-cpp-python")
    _short_replies(ia_home)
    env = cli_env("http://127.0.0.1:9", ia_home, IA_EMBEDDED="auto")
    result = run_cli(["-m", "smollm2:135m", "Say hello."], env, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "using the embedded backend" in result.stderr
    assert result.stdout.strip()
    conv = only_conversation(ia_home)
    assert conv.messages[-1].role == "assistant" and conv.messages[-1].content.strip()


def test_embedded_flag_uses_the_embedded_backend_even_when_a_server_answers(
    scripted_server, ia_home: Path
) -> None:
    pytest.importorskip("llama_cpp", reason="the embedded backend needs llama-cpp-python")
    _short_replies(ia_home)
    env = cli_env(scripted_server.url, ia_home, IA_EMBEDDED="auto")
    result = run_cli(["--embedded", "--json", "Say hello."], env, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "Using the embedded backend (llama.cpp) at http://127.0.0.1:" in result.stderr
    assert "as requested" in result.stderr
    record = json.loads(result.stdout)
    assert record["backend"] == "embedded" and record["model"] == "smollm2:135m"
    assert record["host"] != scripted_server.url and record["reply"].strip()
    assert scripted_server.engine.bodies("/api/chat") == []  # the server at OLLAMA_HOST was not asked


def test_interactive_chat_with_a_standalone_embedded_server(embedded_server, ia_home: Path) -> None:
    """`python -m core.embedded` as OLLAMA_HOST: named as our backend, its chat model by default, a real
    reply saved, and model management refused in one sentence."""
    from tests.cli.conftest import Terminal

    _short_replies(ia_home)
    term = Terminal(["--plain"], cli_env(embedded_server.url, ia_home))
    try:
        banner = term.expect("ia>", timeout=60)
        assert f"Using IA_V3's embedded backend (llama.cpp) at {embedded_server.url}." in banner
        assert "Model: smollm2:135m" in banner
        term.say("What is the capital of France?")

        def replied() -> bool:
            messages = [m for c in conversations(ia_home) for m in c.messages if m.role == "assistant"]
            return bool(messages) and messages[-1].status == "complete"

        wait_until(replied, timeout=240, what="the reply saved")
        term.say("/pull llama3.2")
        shown = term.expect("install Ollama", timeout=60)
        assert "The server does not offer this (HTTP 501)" in shown and "Traceback" not in shown
        term.say("/quit")
        term.expect("Bye.")
    finally:
        term.close()
    reply = only_conversation(ia_home).messages[-1]
    assert reply.role == "assistant" and reply.content.strip() and reply.model == "smollm2:135m"
