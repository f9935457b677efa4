"""The window in French and in English (issue #11 §1), on the real app under Xvfb talking to the scripted
Ollama-protocol server: the language follows the system locale (LANG=fr_FR.UTF-8, settings "auto"), a dialog,
the message box's hint, the conversation list (days, counts, times), the chat's labels and a desktop
notification are in French; App.set_language switches kv and Python-set texts at once, without a restart,
and is remembered in config.toml for the next start.

The README's screenshots of both languages are made here:

    IA_DOCS_SCREENSHOTS=1 python -m pytest -q -p no:cacheprovider tests/ui/test_app_language.py -k docs

writes docs/screenshots/app_fr.png and app_en.png (without the variable, only test-artifacts/ui/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import i18n
from core.embedded.scripted import Delay, Script
from tests.ui.app_harness import AppDriver, keep_window_size, make_app, start, stop
from tests.ui.test_app_notify import _focus, notification_daemon  # noqa: F401  (a fixture)

pytestmark = pytest.mark.ui

NBSP = "\u00a0"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _texts(widget: Any) -> list[str]:
    return [w.text for w in widget.walk(restrict=True) if isinstance(getattr(w, "text", None), str)]


def _open(kivy_harness, scripted_server, ia_home, monkeypatch, lang_env: str) -> AppDriver:
    monkeypatch.setenv("LANG", lang_env)
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    app = make_app()
    start(app, kivy_harness)
    driver = AppDriver(app=app, h=kivy_harness, home=ia_home)
    driver.server = scripted_server  # type: ignore[attr-defined]
    return driver


@pytest.fixture
def french(kivy_harness, scripted_server, ia_home, monkeypatch) -> Iterator[AppDriver]:
    """The app started with LANG=fr_FR.UTF-8 and the default settings (language "auto")."""
    keep_window_size(ia_home, kivy_harness)
    d = _open(kivy_harness, scripted_server, ia_home, monkeypatch, "fr_FR.UTF-8")
    try:
        yield d
    finally:
        stop(d.app, kivy_harness)


def _dialog(d: AppDriver, kind: type) -> Any:
    return d.wait(lambda: next((w for w in d.h.window.children if isinstance(w, kind)), None), "the dialog")


def _chat(d: AppDriver, text: str, reply: list[Any]) -> None:
    d.server.engine.enqueue(Script(reply))
    d.type_and_send(text)
    d.wait_reply_end()
    d.wait(lambda: d.last_message().status == "complete", "the reply")
    d.wait(
        lambda: any(r.get("subtitle", "").endswith("2 messages") for r in d.ids.conv_list.rows()), "the row"
    )


def test_the_window_follows_a_french_locale(french):
    from ui.dialogs import ConfirmDialog

    d = french
    d.ready()
    assert i18n.current_language() == "fr" and d.app.settings.language == "auto"
    welcome = _texts(d.ids.empty_state)
    assert f"De quoi parlons-nous{NBSP}?" in welcome
    assert any(t.startswith(f"Discussion avec [b]{d.app.model}[/b] sur le serveur Ollama") for t in welcome)
    assert any("Maj+Entrée nouvelle ligne" in t and "Ctrl+N nouveau chat" in t for t in welcome)
    assert d.ids.notify_label.text.startswith(("Une réponse qui se termine", "Pas de notifications"))
    bar = d.app.input_bar
    assert bar.ids.input.hint_text == f"Message  (Maj+Entrée{NBSP}: nouvelle ligne)"
    assert bar.ids.send.text == "Envoyer" and bar.ids.attach.text == "Joindre"
    assert "Nouveau chat" in _texts(d.ids.conv_list)
    assert d.ids.conv_list.ids.search.hint_text == "Rechercher  (Ctrl+K)"
    assert d.app.conversation_title == "Nouveau chat"
    d.shot("app_lang_fr_welcome")

    _chat(d, "Bonjour", ["Bonjour ! Que puis-je faire pour vous ?"])
    rows = d.ids.conv_list.rows()
    assert rows[0]["text"] == "Aujourd’hui"
    assert rows[1]["subtitle"].endswith("2 messages")
    shown = d.app.chat_view.ids.rv.data
    assert [r["role_text"] for r in shown if "role_text" in r] == ["Vous", "Assistant"]
    assert bar.ids.send.text == "Envoyer"

    bar.send()  # nothing typed: the notice under the box says so, in French
    assert bar.notice == "Écrivez d’abord un message ou joignez un fichier."

    row = d.wait(lambda: _row_widget(d, d.app.conv.slug), "the row")
    d.h.click(row.ids.delete_btn)
    dialog = _dialog(d, ConfirmDialog)
    assert dialog.title == f"Supprimer cette conversation{NBSP}?"
    assert dialog.message.startswith(f"«{NBSP}Bonjour{NBSP}» et ses fichiers de code")
    assert dialog.ids.cancel_btn.text == "Annuler" and dialog.ids.confirm_btn.text == "Supprimer"
    d.shot("app_lang_fr_delete_dialog")
    d.h.click(dialog.ids.cancel_btn)
    d.wait(lambda: not any(isinstance(w, ConfirmDialog) for w in d.h.window.children), "the dialog to close")

    d.app.copy_last_code()  # no code block yet: the banner's warning
    assert d.ids.banner.message == "Cette conversation ne contient pas encore de bloc de code."


def _row_widget(d: AppDriver, slug: str) -> Any:
    from ui.conversation_list import ConvRow

    return next((w for w in d.ids.conv_list.walk() if isinstance(w, ConvRow) and w.slug == slug), None)


def test_a_notification_in_french(french, notification_daemon):  # noqa: F811
    d = french
    d.ready()
    d.server.engine.enqueue(Script(["La réponse ", Delay(4.0), "est quarante-deux."]))
    d.type_and_send("une question")
    d.wait(lambda: d.app.streaming, "the reply to start")
    other = subprocess.Popen(["zenity", "--info", "--text=un autre programme"], stderr=subprocess.DEVNULL)
    try:
        _focus(d, other.pid)
        d.wait(lambda: not d.h.window.focus, "the app's window to lose the keyboard")
        assert d.app.streaming, "the reply ended before the window lost the keyboard: make the Delay longer"
        d.wait_reply_end()
        title = d.app.conversation_title
        d.wait(lambda: "summary:" in notification_daemon.received(), "dunst to receive the notification")
        received = notification_daemon.received()
        assert f"summary: 'Réponse prête — {title}'" in received
        assert "body: 'La réponse est quarante-deux.'" in received
    finally:
        other.terminate()
        other.wait(10)


def test_switching_language_live_and_remembered(kivy_harness, scripted_server, ia_home, monkeypatch):
    keep_window_size(ia_home, kivy_harness)
    d = _open(kivy_harness, scripted_server, ia_home, monkeypatch, "C.UTF-8")
    try:
        d.ready()
        assert i18n.current_language() == "en"
        _chat(d, "Hello there", ["Hi! How can I help?"])
        d.app.copy_last_code()  # a banner made in English
        assert d.ids.banner.message == "There is no code block in this conversation yet."
        bar = d.app.input_bar
        status_en = d.app.status_text
        assert bar.ids.send.text == "Send" and d.ids.conv_list.rows()[0]["text"] == "Today"
        d.shot("app_lang_switch_before")

        d.app.set_language("fr")
        d.h.settle(6)
        # kv texts
        assert bar.ids.send.text == "Envoyer" and bar.ids.attach.text == "Joindre"
        assert bar.ids.input.hint_text == f"Message  (Maj+Entrée{NBSP}: nouvelle ligne)"
        assert "Nouveau chat" in _texts(d.ids.conv_list)
        # texts set from Python
        assert d.ids.conv_list.rows()[0]["text"] == "Aujourd’hui"
        assert d.ids.conv_list.rows()[1]["subtitle"].endswith("2 messages")
        roles = [r["role_text"] for r in d.app.chat_view.ids.rv.data if "role_text" in r]
        assert roles == ["Vous", "Assistant"]
        assert d.ids.banner.message == "Cette conversation ne contient pas encore de bloc de code."
        assert d.ids.notify_label.text.startswith(("Une réponse qui se termine", "Pas de notifications"))
        assert d.app.status_text == status_en  # "Ollama  ·  model": names, the same in both
        d.app.new_chat()
        assert d.app.conversation_title == "Nouveau chat"
        d.shot("app_lang_switch_after")
        saved = tomllib.loads((ia_home / "config.toml").read_text(encoding="utf-8"))
        assert saved["language"] == "fr"
        assert saved["ui"]["width"]  # the other settings are kept
    finally:
        stop(d.app, kivy_harness)

    i18n.set_language("en")  # a new process would start from the environment's language (English here)
    d = _open(kivy_harness, scripted_server, ia_home, monkeypatch, "C.UTF-8")
    try:
        d.ready()
        assert i18n.current_language() == "fr" and d.app.settings.language == "fr"
        assert d.app.input_bar.ids.send.text == "Envoyer"
        d.app.set_language("auto")  # back to the system's: English
        d.h.settle(4)
        assert d.app.input_bar.ids.send.text == "Send" and d.app.conversation_title == "New chat"
        saved = tomllib.loads((ia_home / "config.toml").read_text(encoding="utf-8"))
        assert saved["language"] == "auto"
        with pytest.raises(ValueError, match="auto, en, fr"):
            d.app.set_language("de")
    finally:
        stop(d.app, kivy_harness)


def _docs_conversation(d: AppDriver, chats: list[tuple[str, list[str]]]) -> None:
    d.ready()
    for n, (text, reply) in enumerate(chats):
        _chat(d, text, reply)
        if n < len(chats) - 1:
            d.h.key("n", ["ctrl"])
    d.app.panel_open = False  # the chat gets wider: its items re-wrap and measure themselves again
    d.h.settle(10)


FRENCH_CHATS = [
    ("Prévoir un week-end à Lyon", ["Samedi : le Vieux Lyon…"]),
    ("Les types de jointure SQL", ["INNER…"]),
    (
        "Écris une fonction Python qui renvoie les mots les plus fréquents d’un texte.",
        [
            "Voici une petite fonction qui compte les mots, avec un test :\n\n",
            "```python\nfrom collections import Counter\n\n\n",
            "def top_words(text: str, n: int = 3) -> list[tuple[str, int]]:\n",
            '    """Les n mots les plus fréquents, sans tenir compte de la casse."""\n',
            "    return Counter(text.lower().split()).most_common(n)\n```\n\n",
            "**Comment ça marche**\n\n- `str.split()` coupe sur les espaces\n",
            "- `Counter.most_common` trie par nombre\n\nCopiez-la avec **Ctrl+Maj+C**.",
        ],
    ),
]
ENGLISH_CHATS = [
    ("Plan a weekend in Lyon", ["Saturday: the old town…"]),
    ("SQL join types", ["INNER…"]),
    (
        "Write a Python function that returns the most frequent words of a text.",
        [
            "Here is a small function that counts words, with a test:\n\n",
            "```python\nfrom collections import Counter\n\n\n",
            "def top_words(text: str, n: int = 3) -> list[tuple[str, int]]:\n",
            '    """The n most frequent words, case-insensitive."""\n',
            "    return Counter(text.lower().split()).most_common(n)\n```\n\n",
            "**How it works**\n\n- `str.split()` cuts on any whitespace\n",
            "- `Counter.most_common` sorts by count\n\nCopy it with **Ctrl+Shift+C**.",
        ],
    ),
]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_docs_main_window_in_each_language(lang, kivy_harness, scripted_server, ia_home, monkeypatch):
    """The README's pictures of the main window, one per language; IA_DOCS_SCREENSHOTS=1 copies them into
    docs/screenshots/app_<lang>.png."""
    keep_window_size(ia_home, kivy_harness)
    env = {"fr": "fr_FR.UTF-8", "en": "C.UTF-8"}[lang]
    d = _open(kivy_harness, scripted_server, ia_home, monkeypatch, env)
    try:
        _docs_conversation(d, FRENCH_CHATS if lang == "fr" else ENGLISH_CHATS)
        bar, rows = d.app.input_bar, d.ids.conv_list.rows()
        assert i18n.current_language() == lang
        assert bar.ids.send.text == {"fr": "Envoyer", "en": "Send"}[lang]
        assert rows[0]["text"] == {"fr": "Aujourd’hui", "en": "Today"}[lang]
        assert len([r for r in rows if r["viewclass"] == "ConvRow"]) == 3
        shot = d.shot(f"docs_lang_{lang}")
        if os.environ.get("IA_DOCS_SCREENSHOTS") == "1":
            shutil.copyfile(shot, DOCS / f"app_{lang}.png")
    finally:
        stop(d.app, kivy_harness)


def _main_ui(args: list[str], env_extra: dict[str, str], home: Path) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, IA_HOME=str(home), KIVY_NO_FILELOG="1", LANG="C.UTF-8", **env_extra)
    env.pop("KIVY_NO_ARGS", None)
    return subprocess.run(
        [sys.executable, str(root / "main_ui.py"), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_main_ui_lang_flag_speaks_french_for_one_run(ia_home):
    """`main_ui.py --lang fr`: its help and its messages in French, whatever LANG and config.toml say, and the
    setting is left as it was (the flag is for one run); a language IA_V3 has not is refused."""
    (ia_home / "config.toml").write_text('language = "en"\n', encoding="utf-8")
    shown = _main_ui(["--lang", "fr", "--help"], {}, ia_home)
    assert shown.returncode == 0 and "IA_V3, discussion de bureau avec des modèles locaux" in shown.stdout
    assert "langue de l’interface pour cette session" in shown.stdout
    english = _main_ui(["--help"], {}, ia_home)
    assert "IA_V3 desktop chat for local models" in english.stdout
    failed = _main_ui(["--lang", "fr"], {"KIVY_WINDOW": "no_such_provider"}, ia_home)
    assert failed.returncode == 1
    assert f"erreur{NBSP}: Kivy n’a pas pu ouvrir de fenêtre" in failed.stderr, failed.stderr[-2000:]
    assert tomllib.loads((ia_home / "config.toml").read_text(encoding="utf-8"))["language"] == "en"
    refused = _main_ui(["--lang", "de", "--help"], {}, ia_home)
    assert refused.returncode == 2 and "--lang" in refused.stderr


def test_items_stay_contiguous_after_a_streamed_reply_and_a_wider_chat(
    kivy_harness, scripted_server, ia_home, monkeypatch
):
    """A streamed reply, then the panel closed (the chat gets wider, every item re-wraps): each shown item's
    height is the one the layout uses and each starts where the one above ends, no gap (items that measured
    themselves while being placed went unseen and left a gap between a paragraph and a code block)."""
    keep_window_size(ia_home, kivy_harness)
    d = _open(kivy_harness, scripted_server, ia_home, monkeypatch, "C.UTF-8")
    try:
        _docs_conversation(d, ENGLISH_CHATS[2:])
        layout = d.app.chat_view.ids.rv.layout_manager
        shown = sorted(layout.view_indices.items(), key=lambda pair: pair[1])
        assert len(shown) >= 8
        for widget, index in shown:
            assert widget.height == layout._heights[index], (index, widget.height, layout._heights[index])
        for (upper, _i), (lower, _j) in zip(shown, shown[1:], strict=False):
            assert lower.top == upper.y, (upper, lower)
    finally:
        stop(d.app, kivy_harness)


def test_a_closed_window_no_longer_follows_the_language(kivy_harness, scripted_server, ia_home, monkeypatch):
    """The app listens to changes of language while it runs; once stopped it is no longer called (a closed
    window's texts would be made again for nothing, and it would be kept alive)."""
    d = _open(kivy_harness, scripted_server, ia_home, monkeypatch, "C.UTF-8")
    try:
        d.ready()
        assert any(getattr(listener, "__self__", None) is d.app for listener in i18n._listeners)
    finally:
        stop(d.app, kivy_harness)
    assert not any(getattr(listener, "__self__", None) is d.app for listener in i18n._listeners)
    i18n.set_language("fr")  # nothing of the closed window runs
    assert i18n.current_language() == "fr"
