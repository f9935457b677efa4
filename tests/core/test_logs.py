"""Per-conversation logs and the rotating technical log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config import Settings
from core.errors import StorageWriteError
from core.logs import SessionLog, setup_technical_log


@pytest.fixture
def settings(ia_home: Path) -> Settings:
    return Settings(home=ia_home)


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_session_log_is_readable_and_appends(settings: Settings) -> None:
    log = SessionLog(settings, "my-chat")
    log.write("user", "Hello\n\nsecond paragraph")
    log.write("assistant", "Hi there", model="smollm2:135m", eval_count=3, status="complete", error=None)
    text = (settings.logs_dir / "my-chat.log").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].endswith(" UTC [user]")
    assert lines[1:4] == ["    Hello", "", "    second paragraph"]
    assert lines[4].endswith("[assistant] model=smollm2:135m eval_count=3 status=complete")
    assert lines[5] == "    Hi there"


def test_entry_format_has_time_role_and_model() -> None:
    when = datetime(2026, 11, 24, 8, 12, 3, tzinfo=UTC)
    entry = SessionLog.format("assistant", "a\r\nb", when, model="m")
    assert entry == "2026-11-24 08:12:03 UTC [assistant] model=m\n    a\n    b\n"


@pytest.mark.parametrize("slug", ["../escape", "a/b", "a\\b", "", "..", ".hidden", "nul\x00"])
def test_session_log_refuses_unsafe_names(settings: Settings, slug: str) -> None:
    with pytest.raises(ValueError, match="not a session slug"):
        SessionLog(settings, slug)


def test_session_log_in_an_unwritable_home_raises_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageWriteError, match="not a folder"):
        SessionLog(Settings(home=blocker), "chat").write("user", "hi")


def test_technical_log_rotates(settings: Settings) -> None:
    logger = setup_technical_log(settings, max_bytes=2_000, backups=2)
    for i in range(200):
        logging.getLogger("core.anything").info("line %d with some padding to fill the file quickly", i)
    logger.warning("from the app")
    files = sorted(p.name for p in settings.logs_dir.glob("technical.log*"))
    assert files == ["technical.log", "technical.log.1", "technical.log.2"]
    assert "from the app" in (settings.logs_dir / "technical.log").read_text(encoding="utf-8")
    assert all(p.stat().st_size <= 2_200 for p in settings.logs_dir.glob("technical.log*"))


def test_setup_twice_keeps_one_handler(settings: Settings) -> None:
    setup_technical_log(settings)
    setup_technical_log(settings)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_ia_technical", False)]
    assert len(ours) == 1


def test_unwritable_logs_folder_falls_back_to_stderr(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    logger = setup_technical_log(Settings(home=blocker))
    logger.error("still reported")
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("technical log disabled: Cannot write") and "not a folder" in err[0]
    assert err[1] == "still reported"  # plain sentences on a terminal, no timestamp or logger name


def test_a_disk_that_fills_up_disables_the_technical_log_in_one_sentence(settings: Settings, capsys) -> None:
    """/dev/full answers every write with ENOSPC, as a full disk does: one plain sentence, then silence, never
    logging's "--- Logging error ---" traceback per record."""
    settings.logs_dir.mkdir(parents=True)
    (settings.logs_dir / "technical.log").symlink_to("/dev/full")
    logger = setup_technical_log(settings)
    logger.info("first")
    logging.getLogger("httpx").info("HTTP Request: GET /")
    logger.warning("third")
    err = capsys.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err
    assert err.splitlines() == [
        f"technical log disabled: Cannot write {settings.logs_dir / 'technical.log'}: the disk is full. "
        "Free some disk space or fix the folder's permissions (IA_HOME); what was saved before is intact."
    ]
