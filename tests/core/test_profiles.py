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


def test_scan_lists_a_damaged_file_with_its_error_and_never_the_defaults_file(settings: Settings) -> None:
    from core.profiles import scan_profiles, set_default_profile

    save_profile(settings, Profile("fine", "m"))
    (settings.profiles_dir / "broken.toml").write_bytes(b"model = ")
    set_default_profile(settings, "m", "fine")
    entries = scan_profiles(settings)
    assert [(e.name, e.profile is not None) for e in entries] == [("broken", False), ("fine", True)]
    assert "broken.toml" in entries[0].error and "not valid TOML" in entries[0].error
    assert entries[1].profile == Profile("fine", "m") and entries[1].error == ""
    assert [p.name for p in list_profiles(settings)] == ["fine"]  # _defaults.toml is no profile


def test_a_models_default_profile_is_kept_and_follows_a_deletion(settings: Settings) -> None:
    import tomllib

    from core.profiles import default_profile, model_defaults, set_default_profile

    assert model_defaults(settings) == {} and default_profile(settings, "smollm2:135m") == ""
    save_profile(settings, Profile("brief", "smollm2:135m"))
    save_profile(settings, Profile("other", "gemma3:270m"))
    set_default_profile(settings, "smollm2:135m", "brief")
    set_default_profile(settings, "gemma3:270m", "other")
    path = settings.profiles_dir / "_defaults.toml"
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {
        "models": {"gemma3:270m": "other", "smollm2:135m": "brief"}
    }
    assert default_profile(settings, "smollm2:135m") == "brief"
    delete_profile(settings, "brief")  # no model's default any more
    assert model_defaults(settings) == {"gemma3:270m": "other"}
    set_default_profile(settings, "gemma3:270m", "")
    assert model_defaults(settings) == {}
    with pytest.raises(ConfigError, match="profile name"):
        set_default_profile(settings, "gemma3:270m", "../evil")
    with pytest.raises(ConfigError, match="needs a model"):
        set_default_profile(settings, "", "other")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[models\n", "not valid TOML"),
        (b"models = 3\n", r"one \[models\] table"),
        (b'[models]\n"m" = 3\n', "must be a name"),
        (b"[other]\n", r"one \[models\] table"),
    ],
)
def test_a_damaged_defaults_file_is_reported_and_never_rewritten(
    settings: Settings, content: bytes, reason: str
) -> None:
    from core.profiles import default_profile, set_default_profile

    settings.profiles_dir.mkdir(parents=True)
    path = settings.profiles_dir / "_defaults.toml"
    path.write_bytes(content)
    save_profile(settings, Profile("fine", "m"))
    with pytest.raises(ConfigError, match=reason):
        default_profile(settings, "m")
    with pytest.raises(ConfigError, match=reason):
        set_default_profile(settings, "m", "fine")
    delete_profile(settings, "fine")  # still deletes the profile itself
    assert path.read_bytes() == content
