"""Profiles in the app's info panel (issue #11 §7), on the real window against the scripted Ollama server:
create one from this chat, refuse an odd name, ask before replacing, edit in place, apply (model, prompt and
options reach the server), delete after a confirmation; a model's default profile is applied when that model is
picked; a damaged profile file is listed with its error and never applied; App.profiles_changed() lists what
another screen saved."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core.embedded.scripted import Script
from tests.ui.app_harness import AppDriver, app_driver_fixture  # noqa: F401

pytestmark = pytest.mark.ui


def _dialog(d: AppDriver):
    from ui.dialogs import ConfirmDialog

    return d.wait(
        lambda: next(
            (w for w in d.h.window.children if isinstance(w, ConfirmDialog) and not w.closing), None
        ),
        "a confirmation dialog",
    )


def _profile_file(d: AppDriver, name: str) -> Path:
    return d.home / "profiles" / f"{name}.toml"


def _read(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _type_into(d: AppDriver, box, text: str) -> None:
    """Click a text box, clear it and type ``text`` like a keyboard."""
    d.press(box)
    d.wait(lambda: box.focus, "the box to take the keyboard")
    box.select_all()
    d.h.key("backspace")
    d.h.type_text(text)
    assert box.text == text


def _profiles(d: AppDriver):
    section = d.ids.info.ids.profiles_section
    d.wait(lambda: section.loaded, "the profiles to be listed")
    return section


def _pick(d: AppDriver, name: str) -> None:
    info = d.ids.info
    info.ids.picker.text = info.model_values[
        info.model_names.index(name)
    ]  # what choosing it in the list does
    d.wait(lambda: d.app.model == name, f"{name} to be the model")


def test_create_edit_apply_and_delete_a_profile_by_clicking(app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    section = _profiles(d)
    assert section.rows() == {}
    # This chat's settings, as a person sets them.
    _type_into(d, info.ids.system_input, "Answer like a pirate.")
    _type_into(d, info.ids.opt_temperature, "0.4")
    d.press(info.ids.apply_btn)

    # New profile from this chat: the editor starts from its model, prompt and options.
    d.press(info.ids.profile_new_btn)
    d.wait(lambda: section.editing, "the profile editor")
    assert (
        section.edit_model == "smollm2:135m" and info.ids.profile_system_input.text == "Answer like a pirate."
    )
    assert info.ids.profile_opt_temperature.text == "0.4"
    _type_into(d, info.ids.profile_name_input, "my pirate")  # a space: not a file name on every system
    d.press(info.ids.profile_save_btn)
    assert "cannot be a profile name" in section.edit_error and section.editing
    assert not (d.home / "profiles").exists() or not list((d.home / "profiles").iterdir())
    _type_into(d, info.ids.profile_name_input, "pirate")
    d.press(info.ids.profile_save_btn)
    path = _profile_file(d, "pirate")
    d.wait(lambda: "pirate" in section.rows(), "the new profile in the list")
    assert _read(path) == {
        "model": "smollm2:135m",
        "system_prompt": "Answer like a pirate.",
        "options": {"temperature": 0.4},
    }
    assert not section.editing and section.status == "Profile “pirate” saved."
    d.shot("app_profiles_created")

    # The same name again: it asks before replacing; Cancel keeps the file as it was.
    _type_into(d, info.ids.system_input, "Be brief.")
    d.press(info.ids.profile_new_btn)
    _type_into(d, info.ids.profile_name_input, "pirate")
    d.press(info.ids.profile_save_btn)
    dialog = _dialog(d)
    assert "pirate" in dialog.message
    d.press(dialog.ids.cancel_btn)
    d.wait(lambda: dialog not in d.h.window.children, "the dialog to close")
    assert _read(path)["system_prompt"] == "Answer like a pirate."
    d.press(info.ids.profile_save_btn)
    listed = section.loaded
    d.press(_dialog(d).ids.confirm_btn)
    d.wait(lambda: _read(path)["system_prompt"] == "Be brief.", "the profile replaced")
    d.wait(
        lambda: not section.editing and section.loaded > listed, "the editor to close, the list read again"
    )

    # Edit in place: another prompt, another model, and it becomes that model's default.
    d.press(section.rows()["pirate"].ids.edit_btn)
    d.wait(lambda: section.editing and section.edit_name == "pirate", "the editor on the profile")
    assert info.ids.profile_name_input.disabled  # the name stays
    _type_into(d, info.ids.profile_system_input, "Arr! Answer like a pirate.")
    _type_into(d, info.ids.profile_opt_seed, "7")
    picker = info.ids.profile_model_picker
    d.press(picker)
    entry = d.wait(
        lambda: next((w for w in picker._dropdown.container.children if w.text == "gemma3:270m"), None),
        "entry",
    )
    d.press(entry)
    d.wait(lambda: section.edit_model == "gemma3:270m", "the profile's new model")
    d.press(info.ids.profile_default_switch)
    d.shot("app_profiles_editor")
    listed = section.loaded
    d.press(info.ids.profile_save_btn)
    d.wait(lambda: _read(path)["model"] == "gemma3:270m", "the edited profile on disk")
    d.wait(lambda: section.loaded > listed, "the list read again")
    assert _read(path) == {
        "model": "gemma3:270m",
        "system_prompt": "Arr! Answer like a pirate.",
        "options": {"temperature": 0.4, "seed": 7},
    }
    defaults = d.home / "profiles" / "_defaults.toml"
    assert _read(defaults) == {"models": {"gemma3:270m": "pirate"}}
    d.wait(lambda: "default for this model" in section.rows()["pirate"].detail, "the default said in the row")

    # Apply: another chat setup first, then the profile's model, prompt and options reach the server.
    d.app.new_chat()
    d.h.settle(4)
    assert d.app.model == "smollm2:135m"
    d.press(section.rows()["pirate"].ids.apply_btn)
    d.wait(lambda: d.app.model == "gemma3:270m", "the profile's model")
    assert info.ids.system_input.text == "Arr! Answer like a pirate."
    assert section.status == "“pirate” applied to this chat."
    d.server.engine.enqueue(Script(["Arr."]))
    d.h.key("l", ["ctrl"])
    d.type_and_send("hello")
    d.wait_reply_end()
    body = d.server.engine.bodies("/api/chat")[-1]
    assert body["model"] == "gemma3:270m"
    assert body["messages"][0] == {"role": "system", "content": "Arr! Answer like a pirate."}
    assert body["options"]["temperature"] == 0.4 and body["options"]["seed"] == 7
    d.shot("app_profiles_applied")

    # Delete asks first; confirmed, the file and its default go.
    d.press(section.rows()["pirate"].ids.delete_btn)
    dialog = _dialog(d)
    assert "pirate" in dialog.message
    d.press(dialog.ids.cancel_btn)
    d.wait(lambda: dialog not in d.h.window.children, "the dialog to close")
    assert path.exists()
    d.press(section.rows()["pirate"].ids.delete_btn)
    d.press(_dialog(d).ids.confirm_btn)
    d.wait(lambda: "pirate" not in section.rows(), "the row to go")
    assert not path.exists() and _read(defaults) == {"models": {}}


def _write(home: Path, name: str, text: str) -> Path:
    folder = home / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def with_profiles(ia_home: Path) -> Path:
    """Profiles on disk before the app starts: a default for gemma3:270m, a plain one and a damaged file."""
    _write(
        ia_home,
        "french.toml",
        'model = "gemma3:270m"\nsystem_prompt = "Réponds en français."\n[options]\ntemperature = 0.2\n',
    )
    _write(ia_home, "plain.toml", 'model = "smollm2:135m"\nsystem_prompt = "Plain."\n')
    _write(ia_home, "broken.toml", 'model = "smollm2:135m"\nsystem_prompt = \n')
    _write(ia_home, "_defaults.toml", '[models]\n"gemma3:270m" = "french"\n"thinker:latest" = "broken"\n')
    return ia_home


def test_a_models_default_profile_is_applied_when_that_model_is_picked(with_profiles, app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    section = _profiles(d)
    assert set(section.rows()) == {"french", "plain", "broken"}
    assert info.ids.system_input.text == ""
    _pick(d, "gemma3:270m")
    d.wait(lambda: info.ids.system_input.text == "Réponds en français.", "the default profile's prompt")
    assert info.ids.opt_temperature.text == "0.2"
    d.server.engine.enqueue(Script(["Bonjour."]))
    d.h.key("l", ["ctrl"])
    d.type_and_send("salut")
    d.wait_reply_end()
    body = d.server.engine.bodies("/api/chat")[-1]
    assert body["model"] == "gemma3:270m" and body["options"]["temperature"] == 0.2
    assert body["messages"][0] == {"role": "system", "content": "Réponds en français."}
    saved = (d.home / "sav" / d.app.conv.slug / "conversation.md").read_text(encoding="utf-8")
    assert 'system_prompt: "R\\u00e9ponds en fran\\u00e7ais."' in saved  # the format's ASCII JSON
    # A model without a default keeps this chat's settings.
    _pick(d, "smollm2:135m")
    d.h.settle(10)
    assert info.ids.system_input.text == "Réponds en français."
    # A model whose default profile is damaged: nothing applied, the reason said.
    _pick(d, "thinker:latest")
    d.wait(lambda: section.status_error, "the damaged default's error")
    assert "broken.toml" in section.status and "not valid TOML" in section.status
    assert info.ids.system_input.text == "Réponds en français."


def test_a_damaged_profile_is_listed_with_its_error_and_not_applied(with_profiles, app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    section = _profiles(d)
    row = d.wait(lambda: section.rows().get("broken"), "the damaged profile's row")
    assert "broken.toml" in row.error and "not valid TOML" in row.error
    assert row.ids.detail_label.text == row.error and row.ids.edit_btn.get_root_window() is None  # no Edit
    d.press(row.ids.apply_btn)
    assert section.status_error and section.status.startswith("“broken” cannot be applied: ")
    d.h.settle(6)
    assert d.app.model == "smollm2:135m" and info.ids.system_input.text == ""
    assert d.app.draft_system == d.app.settings.system_prompt  # this chat's settings untouched
    d.ids.info.ids.scroll.scroll_to(section, animate=False)
    d.shot("app_profiles_damaged")
    # A plain one still applies.
    d.press(section.rows()["plain"].ids.apply_btn)
    d.wait(lambda: d.app.draft_system == "Plain.", "the plain profile applied")


def test_profiles_changed_lists_a_profile_saved_elsewhere(app_driver):
    from kivy.app import App

    from config import Settings
    from core.profiles import Profile, save_profile

    d = app_driver
    d.ready()
    section = _profiles(d)
    before = section.loaded
    save_profile(Settings(home=d.home), Profile("bench-best", "smollm2:135m", "", {"temperature": 0.1}))
    App.get_running_app().profiles_changed()  # what the benchmark screen's "Save as profile" calls
    d.wait(lambda: section.loaded > before and "bench-best" in section.rows(), "the saved profile listed")
    assert section.rows()["bench-best"].detail == "smollm2:135m  ·  1 option"


def test_a_profile_that_cannot_be_written_says_why_and_keeps_what_was_typed(app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    section = _profiles(d)
    (d.home / "profiles").write_text("not a folder", encoding="utf-8")  # the profiles folder cannot be made
    d.press(info.ids.profile_new_btn)
    _type_into(d, info.ids.profile_system_input, "Keep me.")
    _type_into(d, info.ids.profile_name_input, "kept")
    d.press(info.ids.profile_save_btn)
    d.wait(lambda: section.status_error, "the reason it was not saved")
    assert "profiles" in section.status
    assert section.editing and info.ids.profile_system_input.text == "Keep me."
    assert info.ids.profile_name_input.text == "kept"
    d.shot("app_profiles_unwritable")
