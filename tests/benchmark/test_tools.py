"""tools/: analyze_dev_logs on a hand-made jsonl, benchmark_responses against a scripted server, system prompts."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from core.benchmark.presets import CONFIGS_DIR, parse_modelfile
from core.embedded.scripted import ErrorBefore, Script
from tools import analyze_dev_logs, benchmark_responses, update_system_prompt


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich tables wrap at the terminal width; a wide one keeps names whole in captured output."""
    monkeypatch.setenv("COLUMNS", "200")


def _record(model: str, ttft: float | None, tps: float | None, error: str | None = None) -> dict:
    return {"time": "2026-01-01T00:00:00Z", "session": "s", "model": model, "host": "h", "options": {},
            "prompt_chars": 5, "reply_chars": 10, "ttft_s": ttft, "total_s": 1.0, "eval_count": 10,
            "gen_tps": tps, "prompt_tps": 100.0, "load_s": 0.0, "done_reason": "stop", "error": error}  # fmt: skip


def _dev_file(home: Path, lines: list[str]) -> Path:
    path = home / "data" / "dev_responses.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_model_stats_from_hand_made_records() -> None:
    records = [_record("a", t, 10.0 * t) for t in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)]
    records += [_record("b", 0.5, 50.0), _record("b", None, None, error="stalled")]
    stats = {s.model: s for s in analyze_dev_logs.model_stats(records)}
    a, b = stats["a"], stats["b"]
    assert (a.count, a.errors, a.ttft_median, a.ttft_p90, a.tps_median, a.tps_p90) == (
        10,
        0,
        5.5,
        9,
        55.0,
        90.0,
    )
    assert (b.count, b.errors, b.ttft_median, b.tps_median) == (2, 1, 0.5, 50.0)
    assert [s.model for s in analyze_dev_logs.model_stats(records)] == ["a", "b"]


def test_analyze_dev_logs_table_chart_and_bad_lines(ia_home: Path, capsys: pytest.CaptureFixture) -> None:
    lines = [json.dumps(_record("smollm2:135m", 0.2, 80.0)), "{cut off", json.dumps(_record("gemma3:270m", 0.4, 40.0)),
             json.dumps({"note": "no model"})]  # fmt: skip
    path = _dev_file(ia_home, lines)
    before = path.read_text(encoding="utf-8")
    chart = ia_home / "out" / "chart.png"
    assert analyze_dev_logs.main(["--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "smollm2:135m" in out and "gemma3:270m" in out
    assert "Skipped unreadable line(s)" in out and ": 2." in out
    assert "1 record(s) without a model" in out
    with Image.open(chart) as img:
        assert img.format == "PNG" and img.size[0] > 500
    assert path.read_text(encoding="utf-8") == before


def test_analyze_dev_logs_without_file_says_how_to_get_one(
    ia_home: Path, capsys: pytest.CaptureFixture
) -> None:
    assert analyze_dev_logs.main([]) == 1
    assert "No DEV records" in capsys.readouterr().out


def test_benchmark_responses_against_scripted_server(
    scripted_server, monkeypatch, ia_home: Path, capsys
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    scripted_server.engine.enqueue(Script(["Hi", " there"]), [ErrorBefore(500, "boom")])
    prompts = ia_home / "prompts.txt"
    prompts.write_text("# my prompts\nSay hi.\n\nCount to [3].\n", encoding="utf-8")
    code = benchmark_responses.main(["--models", "smollm2:135m", "--prompts", str(prompts)])
    assert code == 0
    out = capsys.readouterr().out
    assert "Count to [3]" in out
    files = sorted((ia_home / "data" / "benchmarks").glob("responses_*.csv"))
    with files[0].open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["prompt"] for r in rows] == ["Say hi.", "Count to [3]."]
    assert rows[0]["status"] == "ok" and rows[0]["reply_chars"] == "8"
    assert rows[1]["status"].startswith("error:") and "boom" in rows[1]["status"]
    assert float(rows[0]["time_s"]) > 0 and rows[0]["ram_percent"]
    assert rows[0]["cpu_percent"] != ""  # the scripted server runs in this process: its CPU is measurable
    bodies = scripted_server.engine.bodies("/api/chat")
    assert bodies[0]["options"] == {"num_predict": 128, "temperature": 0.0}


def test_benchmark_responses_empty_prompt_file(ia_home: Path, capsys) -> None:
    empty = ia_home / "empty.txt"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    assert benchmark_responses.main(["--prompts", str(empty)]) == 5
    assert "No prompt in" in capsys.readouterr().out


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    target = tmp_path / "configs"
    shutil.copytree(CONFIGS_DIR, target)
    return target


def test_update_modelfile_system_line(configs: Path) -> None:
    assert (
        update_system_prompt.main(["--configs", str(configs), "modelfile", "phi", "Answer in code only."])
        == 0
    )
    phi = parse_modelfile((configs / "phi_tests" / "Modelfile").read_text())
    assert (
        phi.system == "Answer in code only."
        and phi.from_ == "phi3:mini"
        and phi.parameters["num_ctx"] == 4096
    )
    mistral = parse_modelfile((configs / "mistral_tests" / "Modelfile").read_text())
    assert mistral.system != "Answer in code only."


def test_update_all_modelfiles_from_file(configs: Path, tmp_path: Path) -> None:
    prompt = tmp_path / "p.txt"
    prompt.write_text('Multi\nline "prompt"\n', encoding="utf-8")
    assert (
        update_system_prompt.main(["--configs", str(configs), "modelfile", "--all", "--file", str(prompt)])
        == 0
    )
    for mf in configs.glob("*_tests/Modelfile"):
        assert parse_modelfile(mf.read_text()).system == 'Multi\nline "prompt"'


def test_update_modelfile_errors_are_clear(configs: Path, capsys) -> None:
    # ConfigError: a problem with files on this machine, exit 1 as in main.py (core.errors.exit_code)
    assert update_system_prompt.main(["--configs", str(configs), "modelfile", "nope", "x"]) == 1
    assert "no such preset Modelfile" in capsys.readouterr().out
    assert update_system_prompt.main(["--configs", str(configs), "modelfile", "phi", "  "]) == 1
    assert "it is empty" in capsys.readouterr().out
    before = (configs / "phi_tests" / "Modelfile").read_text()
    assert update_system_prompt.main(["--configs", str(configs), "modelfile", "phi", 'a """ b']) == 1
    assert (configs / "phi_tests" / "Modelfile").read_text() == before


def test_profiles_system_prompt_set_show_list(ia_home: Path, capsys) -> None:
    from config import load_settings
    from core.profiles import Profile, load_profile, save_profile

    settings = load_settings({})
    save_profile(
        settings, Profile(name="coder", model="smollm2:135m", system_prompt="old", options={"top_k": 5})
    )
    assert update_system_prompt.main(["set", "coder", "Reply with code only."]) == 0
    profile = load_profile(settings, "coder")
    assert (profile.system_prompt, profile.model, profile.options) == ("Reply with code only.", "smollm2:135m",
                                                                        {"top_k": 5})  # fmt: skip
    assert update_system_prompt.main(["set", "fresh", "Be brief.", "--model", "gemma3:270m"]) == 0
    assert load_profile(settings, "fresh").model == "gemma3:270m"
    capsys.readouterr()
    assert update_system_prompt.main(["show", "coder"]) == 0
    assert capsys.readouterr().out.strip() == "Reply with code only."
    assert update_system_prompt.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "coder (smollm2:135m): Reply with code only." in listing and "phi:" in listing


def test_corrupt_profile_is_reported_and_left_untouched(ia_home: Path, capsys) -> None:
    path = ia_home / "profiles" / "broken.toml"
    path.parent.mkdir(parents=True)
    path.write_text("system_prompt = [\n", encoding="utf-8")
    assert update_system_prompt.main(["set", "broken", "new"]) == 1
    assert "not valid TOML" in " ".join(capsys.readouterr().out.split())
    assert path.read_text(encoding="utf-8") == "system_prompt = [\n"
    assert update_system_prompt.main(["set", "bad/name", "x"]) == 1
    assert "a profile name uses letters" in " ".join(capsys.readouterr().out.split())


def test_analyze_dev_logs_reads_what_devlog_writes(ia_home: Path, capsys) -> None:
    from config import load_settings
    from core.devlog import DevLog, DevRecord

    devlog = DevLog(load_settings({}))
    for ttft, tps in ((0.1, 30.0), (0.3, 10.0), (0.2, 20.0)):
        devlog.record(DevRecord(time="2026-01-01T00:00:00Z", session="s", model="smollm2:135m", host="h",
                                ttft_s=ttft, gen_tps=tps, total_s=1.0))  # fmt: skip
    devlog.record(DevRecord(time="2026-01-01T00:00:01Z", session="s", model="smollm2:135m", host="h",
                            error="Cannot reach Ollama"))  # fmt: skip
    assert analyze_dev_logs.main(["--no-chart"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "smollm2:135m" in line)
    assert [cell.strip() for cell in row.split("│")[1:8]] == [
        "smollm2:135m",
        "4",
        "1",
        "0.20",
        "0.30",
        "20.0",
        "30.0",
    ]
