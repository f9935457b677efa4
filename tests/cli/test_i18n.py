"""The CLI in French and English, run as a person runs it: the locale (LANG), IA_LANG, config.toml's
`language`, `--lang` and `/lang` choose the language of the banner, /help, errors, dates and numbers, and of
argparse's own words in --help and usage errors.

Only C.UTF-8 is generated on this machine: core.i18n needs no system locale, so LANG=fr_FR.UTF-8 works here.
Expected French dates and numbers are computed in this process with core.i18n's format_* functions (Babel),
the expected French sentences are written out; argparse's own words, which other programs' catalogs carry
too (benchcli), are taken from the catalogs in this process.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from core import i18n
from tests.cli.conftest import cli_env, only_conversation, run_cli

MODEL = "smollm2:135m"
NB = "\u00a0"  # French puts a no-break space before : ; ! ? and inside « »
FR = {"LANG": "fr_FR.UTF-8"}


def _fr(text: str) -> str:
    """A French sentence as the catalog writes it: " :" -> no-break space + ":" (and ; ? ! « »)."""
    for mark in ":;?!":
        text = text.replace(" " + mark, NB + mark)
    return text.replace("« ", "«" + NB).replace(" »", NB + "»")


# --------------------------------------------------------------------------------------------- interactive


def test_a_french_locale_gives_a_french_chat(terminal_factory, scripted_server, ia_home: Path) -> None:
    """LANG=fr_FR.UTF-8: banner, /help (commands, keys), errors built by the CLI (unknown command, unknown
    model), the session list with its date in French form, and the goodbye."""
    term = terminal_factory("-m", MODEL, "--plain", **FR)
    banner = term.expect("ia>")
    assert _fr(f"Modèle : {MODEL} · Session : nouvelle (enregistrée au premier message)") in banner
    assert _fr("Tapez /help pour les commandes ; Ctrl-C arrête une réponse, Ctrl-D quitte.") in banner
    term.say("/help")
    shown = term.expect(_fr("Ctrl-D sur une invite vide, ou /quit, quitte."))
    assert "afficher les commandes et les touches de saisie" in shown
    assert "/set CLÉ VALEUR" in shown and "/lang [en|fr|auto]" in shown
    assert _fr("Saisie sur plusieurs lignes : Alt+Entrée (ou Échap, Entrée) ajoute une ligne") in shown
    term.prompt()
    term.say("/sesions")
    term.expect(_fr("Commande inconnue /sesions. Vouliez-vous dire /sessions ? Tapez /help pour la liste."))
    term.prompt()
    term.say("/model gemma3:27")
    term.expect(
        _fr(f"Le modèle « gemma3:27 » n’est pas installé sur {scripted_server.url}. ")
        + _fr("Vouliez-vous dire gemma3:270m ?")
    )
    term.prompt()
    term.say("/load")
    term.expect(_fr("Nommez la conversation à charger. Utilisation : /load NOM"))
    term.prompt()
    term.say("Bonjour")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    term.say("/sessions")
    listing = term.expect(_fr("Ouvrez-en une avec /load NOM ou /load NUMÉRO."))
    conv = only_conversation(ia_home)
    i18n.set_language("fr")
    when = i18n.format_datetime(conv.updated.astimezone(), "short")  # 04/12/2026 22:54
    assert "/" in when and when.index("/") == 2  # day first, as French writes it
    for header in ("titre", "identifiant", "modifiée", "messages", "modèle"):
        assert header in listing, header
    assert "Bonjour" in listing and when in listing, listing
    term.say("/quit")
    term.expect("Au revoir.")


def test_lang_command_switches_at_once_and_is_remembered(terminal_factory, ia_home: Path) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/lang")
    term.expect("Language: English (en); the setting is auto.")
    term.prompt()
    term.say("/lang xx")
    term.expect("There is no interface language 'xx': say en, fr or auto. Usage: /lang [en|fr|auto]")
    term.prompt()
    term.say("/lang fr")
    config = ia_home / "config.toml"
    term.expect(_fr(f"Langue : Français ; retenue dans {config}."))
    term.prompt()
    term.say("/help")  # the very next output is French
    term.expect("afficher ou changer la langue de l’interface")
    term.prompt()
    assert term.leave() == 0
    assert tomllib.loads(config.read_text("utf-8"))["language"] == "fr"

    again = terminal_factory("-m", MODEL, "--plain")  # LANG=C.UTF-8: config.toml wins over the locale
    banner = again.expect("ia>")
    assert _fr("Tapez /help pour les commandes") in banner
    again.say("/lang en")
    again.expect(f"Language: English; remembered in {config}.")
    again.prompt()
    assert again.leave() == 0
    assert tomllib.loads(config.read_text("utf-8"))["language"] == "en"


def test_lang_command_keeps_the_change_for_the_session_when_config_toml_is_broken(
    terminal_factory, ia_home: Path
) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    config = ia_home / "config.toml"
    config.write_text("model = [unclosed\n", encoding="utf-8")  # broken after start: /lang must not lose it
    term.say("/lang fr")
    term.expect(_fr("Langue : Français, pour cette session seulement : elle n’a pas pu être enregistrée"))
    term.prompt()
    term.say("/new")
    term.expect("Nouvelle conversation (enregistrée au premier message).")
    term.prompt()
    assert term.leave() == 0
    assert config.read_text("utf-8") == "model = [unclosed\n"  # left as it was


# ------------------------------------------------------------------------------------ --help and usage errors


def _help(env: dict[str, str], *args: str) -> str:
    result = run_cli([*args, "--help"], env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _argparse_fr(message: str) -> str:
    """One of argparse's messages as the French catalogs word it."""
    i18n.set_language("fr")
    try:
        return i18n._(message)
    finally:
        i18n.set_language("en")


def _is_french_help(text: str) -> bool:
    return (
        text.startswith(_fr("utilisation : main.py"))
        and _fr("\noptions :\n") in text  # one no-break space, whatever the catalog adds after the title
        and _fr("\narguments positionnels :\n") in text
        and _argparse_fr("show this help message and exit") in text
        and "[MESSAGE ...]" in text
        and "la langue de l’interface pour cette exécution" in text
        and _fr("codes de sortie : 0 terminé") in text
    )


def _is_english_help(text: str) -> bool:
    return (
        text.startswith("usage: main.py")
        and "\noptions:\n" in text
        and "show this help message and exit" in text
        and "[PROMPT ...]" in text
        and "the language of the interface for this run" in text
    )


def test_help_follows_the_locale_and_lang_overrides_it(ia_home: Path) -> None:
    english = cli_env("http://127.0.0.1:9", ia_home)
    french = cli_env("http://127.0.0.1:9", ia_home, **FR)
    assert _is_english_help(_help(english))
    assert _is_french_help(_help(french))
    assert _is_french_help(_help(english, "--lang", "fr"))
    assert _is_french_help(_help(english, "--lang=fr"))
    assert _is_english_help(_help(french, "--lang", "en"))  # --lang en beats a French LANG
    assert _is_english_help(_help(french, "--lan", "en"))  # a prefix argparse accepts counts too
    assert _is_french_help(_help(english, "--lang", "auto", "--lang", "fr"))  # the last one wins, as argparse
    assert _is_french_help(_help(french, "--lang", "auto"))  # auto: the locale's
    assert _is_english_help(_help({**english, "IA_LANG": "fr"}, "--lang", "auto"))  # the locale over IA_LANG


def test_ia_lang_and_config_toml_choose_the_language(ia_home: Path, tmp_path: Path) -> None:
    env = cli_env("http://127.0.0.1:9", ia_home)
    assert _is_french_help(_help({**env, "IA_LANG": "fr"}))
    assert _is_english_help(_help({**env, "IA_LANG": "fr"}, "--lang", "en"))
    (ia_home / "config.toml").write_text('language = "fr"\n', encoding="utf-8")
    assert _is_french_help(_help(env))
    assert _is_english_help(_help({**env, "IA_LANG": "en"}))  # the environment beats config.toml
    # --home names the folder whose config.toml counts, even for --help
    other = tmp_path / "other_home"
    other.mkdir()
    assert _is_english_help(_help(env, "--home", str(other)))
    # a usage error found after parsing, in the configured language
    result = run_cli(["-o", "temperature", "5", "salut"], env)
    assert result.returncode == 2
    assert _fr("argument -o/--option : temperature accepte un nombre de 0 à 2 ; 5 est hors limites.") in (
        result.stderr
    )


def test_usage_errors_are_in_the_chosen_language(ia_home: Path) -> None:
    env = cli_env("http://127.0.0.1:9", ia_home, **FR)
    result = run_cli(["-o", "temperature"], env)
    assert result.returncode == 2
    i18n.set_language("fr")
    plural = i18n.ngettext("expected %s argument", "expected %s arguments", 2) % 2  # argparse's own call
    i18n.set_language("en")
    assert plural != "expected 2 arguments"  # the catalogs have it in French
    assert _fr("main.py : erreur : argument -o/--option : ") + plural in result.stderr
    result = run_cli(["--lang", "en", "--json"], env)  # nothing to send
    assert result.returncode == 2
    assert "main.py: error: nothing to send: give a PROMPT or pipe text on stdin" in result.stderr


def test_an_unknown_lang_is_refused_in_one_clear_line(ia_home: Path) -> None:
    env = cli_env("http://127.0.0.1:9", ia_home)
    result = run_cli(["--lang", "xx", "hello"], env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "main.py: error: argument --lang: invalid choice: 'xx' (choose from 'auto', 'en', 'fr')"
    )
    result = run_cli(["--lang", "xx", "hello"], {**env, **FR})  # said in the locale's language
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == _fr(
        "main.py : erreur : argument --lang : choix invalide : 'xx' (choisissez parmi 'auto', 'en', 'fr')"
    )
    result = run_cli(["hello"], {**env, "IA_LANG": "xx"})  # a bad IA_LANG is a bad setting (exit 1)
    assert result.returncode == 1
    assert "language" in result.stderr and "xx" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------------------------------------------ one-shot


def test_an_unreachable_server_is_reported_in_the_chosen_language(ia_home: Path) -> None:
    """The failure sentence is core's (ServerUnreachable); the CLI shows it in the language --lang chose:
    the expected text is what core.backend.connect raises in French in this process, for the same settings."""
    from config import load_settings
    from core.backend import connect
    from core.errors import ServerUnreachable

    env = cli_env("http://127.0.0.1:9", ia_home, IA_EMBEDDED="off")
    result = run_cli(["--lang", "fr", "bonjour"], env)
    assert result.returncode == 3 and result.stdout == ""
    i18n.set_language("fr")
    try:
        connect(load_settings({"ollama_host": "http://127.0.0.1:9", "embedded": "off"}, env))
    except ServerUnreachable as exc:
        expected = str(exc)
    else:
        raise AssertionError("connect() reached a server at 127.0.0.1:9")
    assert result.stderr.strip() == expected


def test_dev_timings_use_the_language_s_numbers(scripted_server, ia_home: Path) -> None:
    env = cli_env(scripted_server.url, ia_home, **FR)
    result = run_cli(["-m", MODEL, "--dev", "--plain", "bonjour"], env)
    assert result.returncode == 0, result.stderr
    timings = next(line for line in result.stderr.splitlines() if "tok/s" in line)
    assert timings.startswith("premier jeton ") and " · total " in timings, timings
    rate = timings.split(" tok/s")[0].rsplit(" ", 1)[-1]
    assert "," in rate and "." not in rate, timings  # 12,3 jetons/s, not 12.3
    prompt = next(part for part in timings.split(" · ") if part.startswith("prompt "))
    count, word = prompt.split()[1:]
    assert word == ("jeton" if int(count) <= 1 else "jetons"), timings  # French: 0 and 1 are singular
    english = run_cli(["-m", MODEL, "--dev", "--plain", "--lang", "en", "hello"], env)
    line = next(line for line in english.stderr.splitlines() if "tok/s" in line)
    assert line.startswith("first token ") and "." in line.split(" tok/s")[0].rsplit(" ", 1)[-1], line
