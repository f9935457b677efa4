"""DEV records: one JSON line per request in ``data/dev_responses.jsonl`` plus a readable ``.log``.

Chats write one per request in DEV mode (``session``: the conversation's slug); benchmark runs write one per
generated sample (``session``: ``benchmark:<run id>/<task id>#<sample index>``, so a reader sees where it
came from; core.benchmark.runner).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.fileio import append_lines

if TYPE_CHECKING:
    from config import Settings

__all__ = ["DevLog", "DevRecord"]

log = logging.getLogger("ia.devlog")


@dataclass
class DevRecord:
    """What one request cost: sizes, timings and token rates (None when the server did not say)."""

    time: str
    session: str
    model: str
    host: str
    options: dict[str, Any] = field(default_factory=dict)
    prompt_chars: int = 0
    reply_chars: int = 0
    ttft_s: float | None = None
    total_s: float | None = None
    eval_count: int | None = None
    gen_tps: float | None = None
    prompt_tps: float | None = None
    load_s: float | None = None
    done_reason: str | None = None
    error: str | None = None

    @classmethod
    def from_stats(
        cls,
        *,
        session: str,
        model: str,
        host: str,
        options: dict[str, Any] | None,
        prompt_chars: int,
        reply_chars: int,
        stats: Any = None,
        error: str | None = None,
    ) -> DevRecord:
        """A record for a request now, from a StreamStats-like object (``to_dict()``) or None after a failure."""
        data = stats.to_dict() if stats is not None else {}
        return cls(
            time=datetime.now(UTC).isoformat(timespec="milliseconds"),
            session=session,
            model=model,
            host=host,
            options=dict(options or {}),
            prompt_chars=prompt_chars,
            reply_chars=reply_chars,
            error=error,
            **{
                k: data.get(k) for k in ("ttft_s", "total_s", "eval_count", "gen_tps", "prompt_tps", "load_s")
            },
            done_reason=data.get("done_reason"),
        )

    def summary(self) -> str:
        """One readable line for dev_responses.log."""

        def num(value: float | None, unit: str, digits: int = 2) -> str:
            return "-" if value is None else f"{value:.{digits}f}{unit}"

        parts = [
            self.time,
            f"session={self.session}",
            f"model={self.model}",
            f"ttft={num(self.ttft_s, 's')}",
            f"total={num(self.total_s, 's')}",
            f"eval={'-' if self.eval_count is None else self.eval_count}",
            f"gen={num(self.gen_tps, ' tok/s', 1)}",
            f"prompt={num(self.prompt_tps, ' tok/s', 1)}",
            f"load={num(self.load_s, 's')}",
            f"done={self.done_reason or '-'}",
            f"chars={self.prompt_chars}->{self.reply_chars}",
            f"host={self.host}",
        ]
        if self.options:
            parts.append("options=" + json.dumps(self.options, sort_keys=True))
        if self.error:
            parts.append("error=" + " ".join(self.error.split()))
        return " ".join(parts)


_FIELDS = {f.name for f in fields(DevRecord)}


class DevLog:
    """Appends DevRecords; ``read`` skips (and logs) lines that do not parse, e.g. one cut by a crash."""

    _lock = threading.Lock()

    def __init__(self, settings: Settings) -> None:
        self.jsonl_path: Path = settings.data_dir / "dev_responses.jsonl"
        self.log_path: Path = settings.data_dir / "dev_responses.log"
        self.skipped = 0  # lines the last read() could not use

    def record(self, rec: DevRecord) -> None:
        """Append ``rec`` to both files; StorageWriteError when the data folder cannot be written."""
        line = json.dumps(asdict(rec), ensure_ascii=False, default=str) + "\n"
        with self._lock:
            for path, text in ((self.jsonl_path, line), (self.log_path, rec.summary() + "\n")):
                append_lines(path, text)

    def read(self) -> list[DevRecord]:
        """Every record in the order written; unusable lines are skipped with a warning."""
        try:
            raw = self.jsonl_path.read_bytes()
        except FileNotFoundError:
            return []
        records, self.skipped = [], 0
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line.decode("utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
                records.append(DevRecord(**{k: v for k, v in data.items() if k in _FIELDS}))
            except (ValueError, TypeError) as exc:
                self.skipped += 1
                log.warning("%s line %d skipped: %s", self.jsonl_path, number, exc)
        return records
