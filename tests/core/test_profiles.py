"""Profiles stored as TOML: round-trip, bad names, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from core.errors import ConfigError
from core.profiles import Profile, delete_profile, list_profiles, load_profile, save_profile


@pytest.fixture
def settings(ia_home: Path) -> Settings:
    return Settings(home=ia_home)


def test_profile_round_trips(settings: Settings) -> None:
    profile = Profile(
        "coder", "smollm2:135m", 'Answer with code.\nNo prose.\n"quoted"', {"temperature": 0.2, "seed": 7}
    )
    path = save_profile(settings, profile)
    assert path == settings.profiles_dir / "coder.toml"
    assert load_profile(settings, "coder") == profile
    save_profile(settings, Profile("brief"))
    assert [p.name for p in list_profiles(settings)] == ["brief", "coder"]
    delete_profile(settings, "brief")
    assert [p.name for p in list_profiles(settings)] == ["coder"]


@pytest.mark.parametrize("name", ["../evil", "a/b", "", "CON", "x" * 65, "with space", ".hidden", "nul\x00"])
def test_bad_profile_names_are_refused(settings: Settings, name: str) -> None:
    with pytest.raises(ConfigError, match="profile name"):
        save_profile(settings, Profile(name))
    assert not settings.profiles_dir.exists() or not any(settings.profiles_dir.iterdir())


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"model = ", "not valid TOML"),
        (b"model = 3\n", "'model' must be a string"),
        (b"options = 'hot'\n", "'options' must be a table"),
        (b"modle = 'x'\n", "unknown key 'modle'"),
        (b"model = '\xff'\n", "not"),
    ],
)
def test_bad_profile_file_raises_config_error(settings: Settings, content: bytes, reason: str) -> None:
    settings.profiles_dir.mkdir(parents=True)
    (settings.profiles_dir / "broken.toml").write_bytes(content)
    save_profile(settings, Profile("fine", "m"))
    with pytest.raises(ConfigError, match=reason) as info:
        load_profile(settings, "broken")
    assert "broken.toml" in str(info.value)
    assert [p.name for p in list_profiles(settings)] == ["fine"]  # the others still list


def test_missing_profile_and_unsavable_options(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="no profile named 'ghost'"):
        load_profile(settings, "ghost")
    with pytest.raises(ConfigError, match="no profile named 'ghost'"):
        delete_profile(settings, "ghost")
    with pytest.raises(ConfigError, match="cannot be saved as TOML"):
        save_profile(settings, Profile("bad", options={"stop": None}))
    assert not (settings.profiles_dir / "bad.toml").exists()


def test_profile_saved_with_a_bom_and_crlf_by_a_windows_editor_loads(settings: Settings) -> None:
    settings.profiles_dir.mkdir(parents=True)
    (settings.profiles_dir / "notepad.toml").write_bytes(
        '\ufeffmodel = "smollm2:135m"\r\nsystem_prompt = "Hi"\r\n[options]\r\nseed = 3\r\n'.encode()
    )
    assert load_profile(settings, "notepad") == Profile("notepad", "smollm2:135m", "Hi", {"seed": 3})
