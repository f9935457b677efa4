"""End to end with the real bundled model (llama.cpp): a one-shot prompt answered and saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import cli_env, only_conversation, run_cli

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
