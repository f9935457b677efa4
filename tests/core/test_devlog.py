"""DEV mode records: JSONL + readable log, tolerant reading."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import Settings
from core.devlog import DevLog, DevRecord
from core.errors import StorageWriteError


@dataclass
class FakeStatsRecord:
    """Any object with to_dict() is accepted, as StreamStats is."""

    def to_dict(self) -> dict:
        return {"ttft_s": 0.25, "total_s": 2.0, "eval_count": 40, "gen_tps": 22.5, "prompt_tps": 300.0,
                "load_s": 0.1, "done_reason": "stop", "model": "ignored"}  # fmt: skip


@pytest.fixture
def devlog(ia_home: Path) -> DevLog:
    return DevLog(Settings(home=ia_home))


def _record(**over) -> DevRecord:
    base = dict(session="chat", model="smollm2:135m", host="http://127.0.0.1:11434", options={"seed": 1},
                prompt_chars=12, reply_chars=345, stats=FakeStatsRecord())  # fmt: skip
    base.update(over)
    return DevRecord.from_stats(**base)


def test_record_writes_json_and_readable_lines(devlog: DevLog) -> None:
    devlog.record(_record())
    devlog.record(_record(stats=None, error="Cannot reach Ollama", reply_chars=0))
    rows = [json.loads(line) for line in devlog.jsonl_path.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["ttft_s"] == 0.25 and rows[0]["gen_tps"] == 22.5 and rows[0]["done_reason"] == "stop"
    assert rows[1]["error"] == "Cannot reach Ollama" and rows[1]["eval_count"] is None
    readable = devlog.log_path.read_text(encoding="utf-8").splitlines()
    assert (
        "model=smollm2:135m" in readable[0]
        and "gen=22.5 tok/s" in readable[0]
        and "ttft=0.25s" in readable[0]
    )
    assert "error=Cannot reach Ollama" in readable[1] and "gen=-" in readable[1]
    assert devlog.read() == [DevRecord(**row) for row in rows]


def test_read_skips_corrupted_lines_with_a_warning(devlog: DevLog, caplog) -> None:
    devlog.record(_record(session="one"))
    with devlog.jsonl_path.open("ab") as fh:
        fh.write(b'{not json\n[1, 2]\n\xff\xfe\n{"session": "missing fields"}\n')
    devlog.record(_record(session="two"))
    with devlog.jsonl_path.open("ab") as fh:
        fh.write(b'{"time": "2026-11-24T08:00:00", "session": "cut by a cra')  # crash mid-line
    with caplog.at_level(logging.WARNING, logger="ia.devlog"):
        records = devlog.read()
    assert [r.session for r in records] == ["one", "two"]
    assert devlog.skipped == 5
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 5


def test_read_without_file_is_empty(devlog: DevLog) -> None:
    assert devlog.read() == []


def test_unwritable_data_folder_raises_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageWriteError, match="not a folder"):
        DevLog(Settings(home=blocker)).record(_record())
