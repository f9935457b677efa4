"""Settings layering, host parsing identical to ollama-python, and bad config files."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from config import PROJECT_ROOT, Settings, default_home, load_settings, parse_host, save_settings
from core.errors import ConfigError
from core.locations import is_source_checkout

HOSTS = [
    None,
    "",
    "1.2.3.4",
    ":56789",
    "1.2.3.4:56789",
    "http://1.2.3.4",
    "https://1.2.3.4",
    "https://example.com:56789/path",
    "example.com:56789/path/",
    "[0001:002:003:0004::1]",
    "https://[0001:002:003:0004::1]:56789/path",
    "0.0.0.0",
]


@pytest.mark.parametrize("host", HOSTS)
def test_parse_host_matches_ollama_python(host):
    reference = importlib.import_module("ollama._client")._parse_host
    assert parse_host(host) == reference(host)


def test_defaults_without_environment(tmp_path):
    s = load_settings(env={"IA_HOME": str(tmp_path)})
    assert s.home == tmp_path.resolve()
    assert s.ollama_host == "http://127.0.0.1:11434"
    assert s.embedded == "auto" and s.context_exchanges == 5
    assert s.sav_dir == tmp_path.resolve() / "sav"


def test_home_defaults_to_project_root():
    """From a source checkout the data stays beside the code (an installed wheel uses the user's data
    folder: tests/packaging/test_wheel.py)."""
    assert is_source_checkout() and (PROJECT_ROOT / "pyproject.toml").is_file()
    assert load_settings(env={}).home == PROJECT_ROOT == default_home() == Settings().home


def test_layers_file_then_env_then_flags(tmp_path):
    (tmp_path / "config.toml").write_text(
        'model = "from-file"\ncontext_exchanges = 7\ntheme = "dark"\n[options]\ntemperature = 0.2\n'
    )
    env = {"IA_HOME": str(tmp_path), "IA_MODEL": "from-env", "OLLAMA_HOST": ":5000"}
    s = load_settings(env=env)
    assert (s.model, s.context_exchanges, s.theme) == ("from-env", 7, "dark")
    assert s.ollama_host == "http://127.0.0.1:5000"
    assert s.options == {"temperature": 0.2}
    s = load_settings({"model": "from-flag", "options": {"seed": 1}, "theme": None}, env=env)
    assert s.model == "from-flag" and s.theme == "dark"
    assert s.options == {"temperature": 0.2, "seed": 1}


def test_broken_toml_names_file_and_line(tmp_path):
    (tmp_path / "config.toml").write_text('model = "x"\ntheme = \n')
    with pytest.raises(ConfigError) as err:
        load_settings(env={"IA_HOME": str(tmp_path)})
    assert "config.toml" in str(err.value) and "line 2" in str(err.value)


@pytest.mark.parametrize(
    "text, word",
    [
        ('context_exchanges = "five"\n', "context_exchanges"),
        ('embedded = "maybe"\n', "embedded"),
        ("colour = 1\n", "unknown setting"),
        ("dev_mode = 1\n", "dev_mode"),
    ],
)
def test_bad_values_are_reported(tmp_path, text, word):
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError, match=word):
        load_settings(env={"IA_HOME": str(tmp_path)})


def test_invalid_utf8_config_is_reported(tmp_path):
    (tmp_path / "config.toml").write_bytes(b'model = "\xff"\n')
    with pytest.raises(ConfigError):
        load_settings(env={"IA_HOME": str(tmp_path)})


def test_save_settings_round_trips_and_keeps_other_keys(tmp_path):
    (tmp_path / "config.toml").write_text('model = "kept"\n')
    s = load_settings(env={"IA_HOME": str(tmp_path)})
    s.theme = "dark"
    s.ui = {"window": [1200, 800], "last_session": "hello"}
    save_settings(s, ["theme", "ui"])
    again = load_settings(env={"IA_HOME": str(tmp_path)})
    assert (again.model, again.theme) == ("kept", "dark")
    assert again.ui == {"window": [1200, 800], "last_session": "hello"}
    assert not list(Path(tmp_path).glob(".config.toml.*"))


def test_save_settings_refuses_to_overwrite_unreadable_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("this is = = not toml")
    s = load_settings(env={"IA_HOME": str(tmp_path / "other")})
    s.home = tmp_path
    with pytest.raises(ConfigError):
        save_settings(s, ["theme"])
    assert path.read_text() == "this is = = not toml"


def test_each_layer_beats_the_one_before_for_host_and_home(tmp_path, monkeypatch):
    home, other = tmp_path / "home", tmp_path / "other"
    home.mkdir()
    (home / "config.toml").write_text('ollama_host = "10.0.0.1:1111"\n')
    assert load_settings(env={"IA_HOME": str(home)}).ollama_host == "http://10.0.0.1:1111"  # file > default
    env = {"IA_HOME": str(home), "OLLAMA_HOST": "10.0.0.2:2222"}
    assert load_settings(env=env).ollama_host == "http://10.0.0.2:2222"  # environment > file
    flagged = load_settings({"ollama_host": "10.0.0.3:3333", "home": str(other)}, env=env)
    assert flagged.ollama_host == "http://10.0.0.3:3333"  # flag > environment
    assert flagged.home == other.resolve() and flagged.sav_dir == other.resolve() / "sav"  # --home > IA_HOME
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={"IA_HOME": "home"}).home == home.resolve()  # relative to the working folder
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings(env={"IA_HOME": "~/home"}).home == home.resolve()
    assert load_settings(env={"IA_HOME": "", "OLLAMA_HOST": ""}).home == PROJECT_ROOT  # empty = unset
    assert load_settings(env={"IA_HOME": "", "OLLAMA_HOST": ""}).ollama_host == "http://127.0.0.1:11434"


def test_home_in_config_toml_says_where_to_set_it(tmp_path):
    (tmp_path / "config.toml").write_text('home = "/elsewhere"\n')
    with pytest.raises(ConfigError, match="IA_HOME"):
        load_settings(env={"IA_HOME": str(tmp_path)})


def test_bad_environment_value_names_the_environment(tmp_path):
    with pytest.raises(ConfigError, match="environment"):
        load_settings(env={"IA_HOME": str(tmp_path), "IA_EMBEDDED": "sometimes"})


def test_config_saved_with_a_bom_and_crlf_by_a_windows_editor_loads(tmp_path):
    (tmp_path / "config.toml").write_bytes(
        '\ufeffmodel = "from-notepad"\r\ncontext_exchanges = 3\r\n'.encode()
    )
    s = load_settings(env={"IA_HOME": str(tmp_path)})
    assert (s.model, s.context_exchanges) == ("from-notepad", 3)
