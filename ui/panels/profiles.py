"""The info panel's profiles section: saved chat setups (model, system prompt, options; core.profiles) listed by
name, each applied to this chat, edited in place or deleted (after a confirmation); "New profile" starts from
this chat's settings. A profile can be its model's default: it is applied when that model is picked (the
``[models]`` table of ``profiles/_defaults.toml``, see docs/FORMATS.md). A damaged profile file is listed with
its error and cannot be applied; saving over an existing profile asks first.

Files are read and written on the controller's workers; results come back through its ``post``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from core.errors import ConfigError
from core.i18n import _, ngettext
from ui.panels.base import FIT_SEP, PanelSection, follow_language, load_rule
from ui.panels.chat import OPTION_FIELDS, option_fields, parse_options

__all__ = ["ProfileRow", "ProfilesSection", "profile_detail"]


def profile_detail(profile: Any, is_default: bool) -> str:
    """A profile's second line: its model, how many options it sets, and whether it is its model's default."""
    parts = [profile.model or _("any model")]
    if profile.options:
        n = len(profile.options)
        parts.append(ngettext("{n} option", "{n} options", n).format(n=n))
    if is_default:
        parts.append(_("default for this model"))
    return FIT_SEP.join(parts)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 80 else line[:79] + "…"


class ProfileRow(BoxLayout):
    """One profile: its name, what it sets (or the error of a damaged file, which cannot be applied), and
    Apply, Edit, Delete."""

    name = StringProperty("")
    detail = StringProperty("")
    prompt = StringProperty("")  # the system prompt's first line
    error = StringProperty("")

    def on_kv_post(self, *_args: Any) -> None:
        if self.error:  # a damaged file has nothing to edit: its row offers Delete (and Apply says why not)
            button = self.ids.edit_btn
            button.disabled = True
            self._edit_btn = button.parent.children[button.parent.children.index(button)]
            button.parent.remove_widget(self._edit_btn)

    def _section(self) -> ProfilesSection | None:
        parent = self.parent
        while parent is not None and not isinstance(parent, ProfilesSection):
            parent = parent.parent
        return parent

    def apply(self) -> None:
        section = self._section()
        if section is not None:
            section.apply(self.name)

    def edit(self) -> None:
        section = self._section()
        if section is not None:
            section.edit(self.name)

    def delete(self) -> None:
        section = self._section()
        if section is not None:
            section.ask_delete(self.name)


class ProfilesSection(PanelSection):
    """Events: on_apply_profile(profile) (apply it to this chat: InfoPanel switches the model and applies the
    prompt and options), on_new_profile (InfoPanel answers with ``open_editor`` and this chat's settings)."""

    model_names = ListProperty([])  # the server's models, offered in the editor
    selected_model = StringProperty("")
    status = StringProperty("")  # what the last action did, or why it did not
    status_error = BooleanProperty(False)
    editing = BooleanProperty(False)
    edit_name = StringProperty("")  # the profile being edited; "" while a new one is written
    edit_model = StringProperty("")
    edit_error = StringProperty("")
    defaults_error = StringProperty("")  # a damaged _defaults.toml: said, never rewritten
    entries_count = NumericProperty(0)

    __events__ = ("on_apply_profile", "on_new_profile")

    def __init__(self, **kwargs: Any) -> None:
        self.entries: list[Any] = []  # core.profiles.ProfileEntry, as listed last
        self.defaults: dict[str, str] = {}  # model -> its default profile's name
        self.loaded = 0  # how many times the list was read (tests wait on it)
        super().__init__(**kwargs)
        follow_language(self.show_entries)

    def on_kv_post(self, *_args: Any) -> None:
        # The editor and the "New profile" button take turns at the same place; held here (ids are weak).
        editor, button = self.ids.profile_editor, self.ids.profile_new_box
        parent = editor.parent
        self._swap = (
            parent.children[parent.children.index(button)],
            parent.children[parent.children.index(editor)],
        )
        parent.remove_widget(editor)

    def on_editing(self, *_args: Any) -> None:
        button, editor = self._swap
        shown, hidden = (editor, button) if self.editing else (button, editor)
        if hidden.parent is self:
            index = self.children.index(hidden)
            self.remove_widget(hidden)
            self.add_widget(shown, index=index)

    # -- plumbing -------------------------------------------------------------------------------------
    @staticmethod
    def _app() -> Any:
        return App.get_running_app()

    def _run(self, work: Callable[[], Any], on_ok: Callable[[Any], None]) -> None:
        """``work`` on the controller's worker, ``on_ok`` (or the error in the status line) through its post."""
        self._app().controller.run(work, on_ok, self._failed)

    def _failed(self, exc: BaseException) -> None:
        from ui.controller import describe_error

        self.say(describe_error(exc).message, error=True)

    def say(self, text: str, *, error: bool = False) -> None:
        self.status, self.status_error = text, error

    # -- the list -------------------------------------------------------------------------------------
    def reload(self, then: Callable[[], None] | None = None) -> None:
        """Read the profiles folder again (on a worker) and list what is there."""
        from core.profiles import model_defaults, scan_profiles

        settings = self._app().settings

        def work() -> tuple[list[Any], dict[str, str], str]:
            try:
                defaults, error = model_defaults(settings), ""
            except ConfigError as exc:
                defaults, error = {}, str(exc)
            return scan_profiles(settings), defaults, error

        def listed(found: tuple[list[Any], dict[str, str], str]) -> None:
            self.entries, self.defaults, self.defaults_error = found
            self.loaded += 1
            self.show_entries()
            if then is not None:
                then()

        self._run(work, listed)

    def show_entries(self) -> None:
        box = self.ids.profile_rows
        box.clear_widgets()
        default_of = {name: model for model, name in self.defaults.items()}
        for entry in self.entries:
            if entry.profile is None:
                row = ProfileRow(name=entry.name, error=entry.error)
            else:
                p = entry.profile
                is_default = default_of.get(p.name) == p.model and bool(p.model)
                row = ProfileRow(
                    name=p.name, detail=profile_detail(p, is_default), prompt=_first_line(p.system_prompt)
                )
            box.add_widget(row)
        self.entries_count = len(self.entries)

    def rows(self) -> dict[str, ProfileRow]:
        """The rows by profile name (for tests and keyboard users)."""
        return {row.name: row for row in self.ids.profile_rows.children}

    def _entry(self, name: str) -> Any | None:
        return next((e for e in self.entries if e.name == name), None)

    # -- actions --------------------------------------------------------------------------------------
    def apply(self, name: str) -> None:
        """Apply profile ``name`` to this chat; a damaged one is refused with its error."""
        entry = self._entry(name)
        if entry is None:
            return
        if entry.profile is None:
            self.say(
                _("“{name}” cannot be applied: {error}").format(name=name, error=entry.error), error=True
            )
            return
        self.dispatch("on_apply_profile", entry.profile)

    def apply_default(self, model: str) -> None:
        """``model`` was just picked: apply its default profile, if it has one (its prompt and options). The
        defaults are those read with the list (reload); the profile itself is read now, on a worker."""
        from core.profiles import load_profile

        name = self.defaults.get(model, "")
        if not name:
            return
        settings = self._app().settings

        def found(profile: Any) -> None:
            if self.selected_model == model:  # its prompt and options; the model stays
                self.dispatch("on_apply_profile", replace(profile, model=model))

        self._run(lambda: load_profile(settings, name), found)

    def edit(self, name: str) -> None:
        entry = self._entry(name)
        if entry is None or entry.profile is None:
            return
        p = entry.profile
        self.open_editor(p.name, p.model, p.system_prompt, p.options, self.defaults.get(p.model) == p.name)

    def open_editor(
        self, name: str, model: str, system: str, options: Mapping[str, Any], is_default: bool = False
    ) -> None:
        """Show the editor: for profile ``name``, or ("") a new profile to be named."""
        ids = self.ids
        self.edit_name, self.edit_model, self.edit_error = name, model, ""
        ids.profile_name_input.text = name
        ids.profile_system_input.text = system
        for key, text in option_fields(options).items():
            ids[f"profile_opt_{key}"].text = text
        ids.profile_default_switch.active = is_default
        self.editing = True
        if not name:
            ids.profile_name_input.focus = True

    def close_editor(self) -> None:
        self.editing, self.edit_error = False, ""
        self.ids.profile_name_input.focus = False

    def save_editor(self) -> None:
        """Save what the editor says; a bad name or option is named and nothing is written; saving a new
        profile over an existing one asks first."""
        from core.profiles import Profile, profile_exists, profile_path

        ids = self.ids
        name = ids.profile_name_input.text.strip() if not self.edit_name else self.edit_name
        if not name:
            self.edit_error = _("Give the profile a name.")
            return
        settings = self._app().settings
        try:
            profile_path(settings, name)
        except ConfigError as exc:
            self.edit_error = _("“{name}” cannot be a profile name: {reason}.").format(
                name=name, reason=exc.reason
            )
            return
        fields = {key: ids[f"profile_opt_{key}"].text for key, *_rest in OPTION_FIELDS}
        options, errors = parse_options(fields)
        if errors:
            self.edit_error = "; ".join(errors) + "."
            return
        profile = Profile(name, self.edit_model, ids.profile_system_input.text, options)
        is_default = bool(ids.profile_default_switch.active)
        if self.edit_name:
            self._save(profile, is_default)
            return

        def checked(exists: bool) -> None:
            if not exists:
                self._save(profile, is_default)
                return
            from ui.dialogs import confirm

            confirm(
                _("Replace this profile?"),
                _(
                    "A profile named “{name}” exists already. Saving replaces its model, prompt and options."
                ).format(name=name),
                lambda: self._save(profile, is_default),
                confirm_label=_("Replace"),
            )

        self._run(lambda: profile_exists(settings, name), checked)

    def _save(self, profile: Any, is_default: bool) -> None:
        from core.profiles import model_defaults, save_profile, set_default_profile

        settings = self._app().settings

        def work() -> None:
            save_profile(settings, profile)
            defaults = model_defaults(settings)
            for model, name in defaults.items():  # a profile is the default of its own model only
                if name == profile.name and model != profile.model:
                    set_default_profile(settings, model, "")
            if is_default and profile.model:
                set_default_profile(settings, profile.model, profile.name)
            elif defaults.get(profile.model) == profile.name:
                set_default_profile(settings, profile.model, "")

        def saved(_result: Any) -> None:
            self.close_editor()
            self.say(_("Profile “{name}” saved.").format(name=profile.name))
            self.reload()

        self._run(work, saved)

    def ask_delete(self, name: str) -> None:
        from core.profiles import delete_profile
        from ui.dialogs import confirm

        settings = self._app().settings

        def deleted(_result: Any) -> None:
            if self.edit_name == name:
                self.close_editor()
            self.say(_("Profile “{name}” deleted.").format(name=name))
            self.reload()

        confirm(
            _("Delete this profile?"),
            _("The profile “{name}” will be deleted. Conversations that used it keep their settings.").format(
                name=name
            ),
            lambda: self._run(lambda: delete_profile(settings, name), deleted),
            confirm_label=_("Delete"),
        )

    def choose_edit_model(self, text: str) -> None:
        if text:
            self.edit_model = text

    # -- default handlers -----------------------------------------------------------------------------
    def on_apply_profile(self, profile: Any) -> None:
        """Forwarded by InfoPanel, which applies it."""

    def on_new_profile(self) -> None:
        """Forwarded by InfoPanel, which opens the editor with this chat's settings."""


load_rule(__file__)
