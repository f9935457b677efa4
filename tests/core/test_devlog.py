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


# The DEV record's fields: "time, session, model, host, options, prompt and reply size, time to first token, total time,
# eval count, generation tokens/s, prompt tokens/s, load time, done reason, error" — in that order.
DESIGN_FIELDS = ["time", "session", "model", "host", "options", "prompt_chars", "reply_chars", "ttft_s",
                 "total_s", "eval_count", "gen_tps", "prompt_tps", "load_s", "done_reason", "error"]  # fmt: skip


def test_a_record_has_exactly_the_design_fields_from_real_stream_stats(devlog: DevLog) -> None:
    from core.ollama_client import StreamStats

    stats = StreamStats(
        model="smollm2:135m", host="http://127.0.0.1:11434", ttft_s=0.5, total_s=3.0, done_reason="length",
        eval_count=64, eval_duration_ns=2_000_000_000, prompt_eval_count=30, prompt_eval_duration_ns=100_000_000,
        load_duration_ns=250_000_000, total_duration_ns=2_900_000_000,
    )  # fmt: skip
    devlog.record(_record(stats=stats, options={"temperature": 0.2}, error="Stopped by the user."))
    (line,) = devlog.jsonl_path.read_text(encoding="utf-8").splitlines()
    row = json.loads(line)
    assert list(row) == DESIGN_FIELDS
    assert (row["ttft_s"], row["total_s"], row["eval_count"], row["done_reason"]) == (0.5, 3.0, 64, "length")
    assert (row["gen_tps"], row["prompt_tps"], row["load_s"]) == (32.0, 300.0, 0.25)
    assert row["prompt_chars"] == 12 and row["reply_chars"] == 345 and row["options"] == {"temperature": 0.2}
    (readable,) = devlog.log_path.read_text(encoding="utf-8").splitlines()
    for part in ("session=chat", "model=smollm2:135m", "host=http://127.0.0.1:11434", 'options={"temperature": 0.2}',
                 "chars=12->345", "ttft=0.50s", "total=3.00s", "eval=64", "gen=32.0 tok/s", "prompt=300.0 tok/s",
                 "load=0.25s", "done=length", "error=Stopped by the user."):  # fmt: skip
        assert part in readable, part
    assert readable.startswith(row["time"])
