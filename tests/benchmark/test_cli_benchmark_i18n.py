"""The benchmark CLI in French and English: `LANG=fr_FR.UTF-8 python main_benchmark.py ...` prints French (help,
argparse's own words, tables, numbers, dates, errors), `--lang en` overrides the locale for one run (before the
command or after it), the settings' language (IA_LANG, config.toml) applies without a flag; the files it writes
keep their English columns."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import main_benchmark
from benchcli import display
from core import i18n
from tests.benchmark.test_runner import BAD_EVEN, GOOD_ADD, PROBLEMS

ROOT = Path(__file__).resolve().parents[2]
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    display.console.width = 220
    display.err_console.width = 220


@pytest.fixture
def problems_file(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS), encoding="utf-8")
    return path


def bench(*argv: str, lang: str = "fr_FR.UTF-8", **env: str) -> subprocess.CompletedProcess[str]:
    """The real CLI as a person starts it, in a terminal whose locale is ``lang``."""
    environ = dict(os.environ, LANG=lang, COLUMNS="220", **env)
    return subprocess.run(
        [sys.executable, "main_benchmark.py", *argv],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def flat(text: str) -> str:
    """Lines joined, spaces collapsed; the no-break spaces of French typography kept."""
    return re.sub(r"[ \t\n]+", " ", text)


def test_help_is_in_french_under_a_french_locale() -> None:
    done = bench("--help")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"utilisation{NBSP}: main_benchmark.py [-h] [--lang {{auto,en,fr}}]"), out[:200]
    assert "Banc d’essai IA_V3" in out and f"arguments positionnels{NBSP}:" in out
    assert "affiche cette aide et quitte" in out and f"exemples{NBSP}:" in out
    assert "génère des échantillons pour des modèles" in flat(out)
    # commands and flags are never translated
    assert "python main_benchmark.py run --model smollm2:135m --suite ia_basic --style chat" in out
    sub = bench("sweep", "--help")
    assert sub.returncode == 0 and "tours par combinaison" in sub.stdout and "--grid NAME=V1,V2" in sub.stdout


def test_lang_en_overrides_the_locale_before_or_after_the_command() -> None:
    done = bench("--lang", "en", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: main_benchmark.py")
    assert "show this help message and exit" in done.stdout and "affiche" not in done.stdout
    after = bench("list", "--lang=en")
    assert after.returncode == 0, after.stderr
    assert "Leaderboard (latest run per model" in after.stdout and "Classement" not in after.stdout
    # and the other way round: French asked in an English terminal
    french = bench("--lang", "fr", "list", lang="C.UTF-8")
    assert french.returncode == 0 and "Classement (dernier essai par modèle" in french.stdout


def test_settings_language_applies_without_a_flag(ia_home: Path) -> None:
    assert "Classement" in bench("list", lang="C.UTF-8", IA_LANG="fr").stdout
    (ia_home / "config.toml").write_text('language = "fr"\n', encoding="utf-8")
    assert "Classement" in bench("list", lang="C.UTF-8").stdout
    assert "Leaderboard" in bench("list", "--lang", "en", lang="C.UTF-8").stdout  # the flag wins


def test_errors_are_in_french(scripted_server, problems_file) -> None:
    missing = bench("run", "--hosts", scripted_server.url, "--problems", str(problems_file))
    assert missing.returncode == 5
    assert "Indiquez le modèle à évaluer : --model NAME".replace(" :", f"{NBSP}:") in flat(missing.stderr)
    bad = bench("run", "--model", "m", "--embedded", "bogus")
    assert bad.returncode == 2
    assert (
        f"main_benchmark.py run{NBSP}: erreur{NBSP}: argument --embedded{NBSP}: choix invalide{NBSP}: 'bogus'"
        in bad.stderr
    ), bad.stderr
    option = bench("run", "--model", "m", "--option", "temperature")
    assert option.returncode == 2 and "--option attend CLÉ=VALEUR, pas 'temperature'" in option.stderr
    absent = bench("rescore")
    assert absent.returncode == 2 and f"ces arguments sont obligatoires{NBSP}: RUN" in absent.stderr


def test_run_and_list_in_french_with_french_numbers_and_dates(
    scripted_server, ia_home, problems_file, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    scripted_server.engine.default_reply = [GOOD_ADD + BAD_EVEN]
    argv = [
        "run",
        "--hosts",
        scripted_server.url,
        "--problems",
        str(problems_file),
        "--model",
        "smollm2:135m",
    ]
    assert main_benchmark.main(argv) == 0
    assert i18n.current_language() == "fr"
    out = flat(capsys.readouterr().out)
    assert "Essai " in out and "style chat, suite" in out and "2 problèmes x 1" in out
    assert "smollm2:135m : pass@1 50,0 % [".replace(" :", f"{NBSP}:").replace(" %", f"{NBSP}%") in out, out
    assert f"Rapports{NBSP}:" in out

    done = bench("list")
    assert done.returncode == 0, done.stderr
    listing = done.stdout
    for header in (
        "Essai",
        "Lancé le",
        "Modèle",
        "État",
        "Échantillons",
        "Classement",
        "Empreinte",
        "Moteur",
    ):
        assert header in listing, header
    assert "terminé" in listing and "50,0 [" in listing  # run.json says "complete", 0.5 -> 50,0
    run_dir = next((ia_home / "data" / "generated" / "smollm2_135m").iterdir())
    created = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["created"]
    i18n.set_language("fr_FR.UTF-8")
    assert i18n.format_datetime(datetime.fromisoformat(created).astimezone(), "short") in listing
    # the files keep their English columns and numbers
    board = (ia_home / "data" / "benchmarks" / "leaderboard.csv").read_text(encoding="utf-8")
    assert "Model" in board.splitlines()[0].split(",") and "Modèle" not in board and "50,0" not in board


def test_sweep_prints_french_headers_and_decimals(
    scripted_server, ia_home, problems_file, capsys, monkeypatch
):
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    scripted_server.engine.default_reply = ["    return a + b\n"]
    argv = ["sweep", "--model", "smollm2:135m", "--hosts", scripted_server.url, "--problems", str(problems_file),
            "--grid", "num_ctx=1024,2048"]  # fmt: skip
    assert main_benchmark.main(argv) == 0
    out = capsys.readouterr().out
    assert "Balayage d’options : smollm2:135m".replace(" :", f"{NBSP}:") in out
    assert "Réglages" in out and "Requêtes" in out and "tok/s méd." in out
    assert f"Recommandation pour cette machine{NBSP}: num_ctx=" in out
    (csv_file,) = (ia_home / "data" / "benchmarks").glob("sweep_smollm2_135m_*.csv")
    assert csv_file.read_text(encoding="utf-8").startswith("settings,requests,errors,gen_tps_med")
