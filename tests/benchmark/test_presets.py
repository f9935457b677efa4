"""Presets in ollama_configs/, Modelfile parsing, and the per-model scripts' missing-model behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.benchmark.presets import (
    CONFIGS_DIR,
    editable_dir,
    list_presets,
    load_preset,
    parse_modelfile,
    set_modelfile_system,
)
from core.errors import ConfigError, ServerError
from core.ollama_client import OllamaClient
from tools.benchmark_preset import ensure_model, missing_model_message

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ["mistral", "mistral2", "deepseek", "phi", "starling", "llava"]


def test_every_script_has_a_valid_preset_folder() -> None:
    names = {p.name for p in list_presets()}
    assert set(SCRIPTS) <= names
    for name in SCRIPTS:
        preset = load_preset(name)
        assert (ROOT / "tools" / f"benchmark_{name}.py").exists()
        assert preset.modelfile_path is not None and (preset.directory / "README.md").exists()
        assert parse_modelfile(preset.modelfile_path.read_text()).from_
        assert preset.style in ("chat", "complete")
    assert load_preset("llava").suite == "multimodal"


def test_modelfile_parsing_reads_from_system_and_parameters() -> None:
    mf = parse_modelfile(
        'FROM mistral:7b\n# comment\nSYSTEM """Line one\nline "two"."""\nPARAMETER temperature 0.2\n'
        'PARAMETER stop "<|end|>"\nPARAMETER stop "</s>"\nPARAMETER num_ctx 4096\n'
    )
    assert mf.from_ == "mistral:7b"
    assert mf.system == 'Line one\nline "two".'
    assert mf.parameters == {"temperature": 0.2, "stop": ["<|end|>", "</s>"], "num_ctx": 4096}


def test_modelfile_without_from_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no FROM line"):
        parse_modelfile("SYSTEM hi\n")


def test_set_system_replaces_only_the_system_line() -> None:
    text = 'FROM phi3\nSYSTEM """old\nprompt"""\nPARAMETER temperature 0\n'
    new = set_modelfile_system(text, 'new "quoted" prompt')
    mf = parse_modelfile(new)
    assert mf.system == 'new "quoted" prompt' and mf.from_ == "phi3" and mf.parameters == {"temperature": 0}
    assert parse_modelfile(set_modelfile_system("FROM x\n", "simple")).system == "simple"


def _write_preset(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "cfg" / "demo_tests"
    folder.mkdir(parents=True)
    (folder / "preset.toml").write_text(body, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('style = "chat"\n', "'model' must be"),
        ('model = "m"\nstyle = "poem"\n', "'style' must be"),
        ('model = "m"\nn = 0\n', "'n' must be"),
        ('model = "m"\nsuite = "nope"\n', "'suite' must be"),
        ('model = "m"\noptions = 3\n', "'options' must be"),
        ("model = [\n", "cannot be parsed"),
    ],
)
def test_bad_presets_are_reported(tmp_path: Path, body: str, message: str) -> None:
    folder = _write_preset(tmp_path, body)
    with pytest.raises(ConfigError, match=message):
        load_preset(folder)


def test_unknown_preset_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="preset folder not found"):
        load_preset("nothing", configs_dir=tmp_path)


def test_a_preset_in_ia_home_comes_before_the_shipped_one(ia_home: Path) -> None:
    mine = ia_home / "ollama_configs" / "phi_tests"
    mine.mkdir(parents=True)
    (mine / "preset.toml").write_text('model = "my-phi"\nstyle = "complete"\n', encoding="utf-8")
    extra = ia_home / "ollama_configs" / "tiny_tests"
    extra.mkdir()
    (extra / "preset.toml").write_text('model = "tinyllama"\n', encoding="utf-8")
    assert load_preset("phi", home=ia_home).directory == mine
    assert load_preset("phi", home=ia_home).model == "my-phi"
    assert (
        load_preset("mistral", home=ia_home).directory == CONFIGS_DIR / "mistral_tests"
    )  # not copied: shipped
    by_name = {p.name: p for p in list_presets(home=ia_home)}
    assert set(SCRIPTS) | {"tiny"} <= set(by_name) and by_name["phi"].model == "my-phi"
    assert load_preset("phi").directory == CONFIGS_DIR / "phi_tests"  # without a home: the shipped one only


def test_presets_shipped_in_a_checkout_are_edited_in_place(ia_home: Path) -> None:
    """In a source checkout the shipped presets are the checkout's own files, edited where they are (an
    installed copy is copied into IA_HOME first: tests/packaging/test_wheel.py)."""
    assert CONFIGS_DIR == ROOT / "ollama_configs"
    assert editable_dir(CONFIGS_DIR / "phi_tests", ia_home) == CONFIGS_DIR / "phi_tests"
    assert not (ia_home / "ollama_configs").exists()


def test_missing_model_message_names_modelfile_and_base() -> None:
    text = missing_model_message(load_preset("mistral"), "http://h:1")
    assert "'ia-mistral'" in text and "http://h:1" in text
    assert str(CONFIGS_DIR / "mistral_tests" / "Modelfile") in text and "--yes" in text


def test_ensure_model_declined_and_non_interactive(scripted_server) -> None:
    client = OllamaClient(scripted_server.url)
    preset = load_preset("phi")
    assert ensure_model(client, preset, yes=False, interactive=False) is False
    assert ensure_model(client, preset, yes=False, interactive=True, ask=lambda _q: "q") is False
    assert scripted_server.engine.bodies("/api/create") == []
    preset.model = "smollm2:135m"  # an installed model needs nothing
    assert ensure_model(client, preset, yes=False, interactive=False) is True
    client.close()


def test_ensure_model_with_yes_sends_create_from_modelfile(scripted_server) -> None:
    client = OllamaClient(scripted_server.url)
    preset = load_preset("phi")
    with pytest.raises(ServerError, match="cannot create models"):
        ensure_model(client, preset, yes=True)
    body = scripted_server.engine.bodies("/api/create")[0]
    assert body["model"] == "ia-phi3" and body["from"] == "phi3:mini"
    assert "fenced python code block" in body["system"] and body["parameters"]["num_ctx"] == 4096
    client.close()


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_without_terminal_prints_message_and_exits_4(scripted_server, name: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / f"benchmark_{name}.py"), "--hosts", scripted_server.url],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 4, proc.stderr
    out = " ".join(proc.stdout.split())
    assert f"Model '{load_preset(name).model}' (preset {name}) is not installed" in out
    assert "--yes" in out


def test_script_with_unreachable_host_exits_3() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "benchmark_phi.py"), "--hosts", "http://127.0.0.1:9"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 3
    assert "Cannot reach Ollama at http://127.0.0.1:9" in " ".join(proc.stderr.split())
