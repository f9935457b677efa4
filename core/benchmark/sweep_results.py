"""The option sweeps already made, read back from the files the sweep wrote (for the app's benchmark screen).

`python main_benchmark.py sweep` (core.benchmark.sweep.write_sweep_report) leaves three files per sweep in
IA_HOME/data/benchmarks/, named `sweep_<model>_<YYYYmmdd-HHMMSS>` (UTC): a Markdown page (`# Option sweep for
<model>`, then `Recommendation for this machine: **<settings>**.` or `No combination ran cleanly.`), a CSV of
the figures of every combination (SweepPoint.row(): settings, requests, errors, gen_tps_med, gen_tps_p90,
ttft_med, ...) and a PNG chart. This module reads the first two back; it writes nothing.

    list_sweeps(home) -> [SweepResult], newest first (a sweep whose files cannot be read is skipped, logged)
    read_sweep(md_path) -> SweepResult; ValueError / OSError for a file that is not a sweep page
    parse_settings("num_ctx=2048 keep_alive=5m") -> {"num_ctx": 2048, "keep_alive": "5m"}
    SweepResult.options -> the recommended settings that are model options (keep_alive is a request field)
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.benchmark.store import reports_dir

__all__ = ["REQUEST_FIELDS", "SweepResult", "list_sweeps", "parse_settings", "read_sweep"]

log = logging.getLogger("ia.benchmark")

REQUEST_FIELDS = ("keep_alive",)  # grid axes sent beside the options, as core.benchmark.sweep sends them
_TITLE = "# Option sweep for "
_BEST = re.compile(r"^Recommendation for this machine: \*\*(?P<label>.*)\*\*\.$")
_STAMP = re.compile(r"_(?P<stamp>\d{8}-\d{6})$")


@dataclass
class SweepResult:
    """One sweep: its model, when it ran, the recommended settings and the figures of each combination."""

    name: str  # the files' common stem: sweep_smollm2_135m_20261204-231502
    model: str
    created: datetime | None  # UTC, from the name (the file's time when the name has none)
    label: str | None  # the recommended combination as written ("num_ctx=2048 num_thread=2", "defaults")
    rows: list[dict[str, Any]] = field(default_factory=list)  # the CSV's rows, numbers typed
    files: list[Path] = field(default_factory=list)

    @property
    def settings(self) -> dict[str, Any]:
        """The recommended combination ({} for none, or when the grid was empty: the defaults)."""
        return parse_settings(self.label) if self.label else {}

    @property
    def options(self) -> dict[str, Any]:
        """What of the recommendation a chat profile can hold: the model options (no request fields)."""
        return {k: v for k, v in self.settings.items() if k not in REQUEST_FIELDS}

    @property
    def best(self) -> dict[str, Any] | None:
        """The CSV row of the recommended combination: its figures (gen_tps_med, ttft_med, ...)."""
        if self.label is None:
            return None
        return next((r for r in self.rows if r.get("settings") == self.label), None)


def _value(raw: str) -> Any:
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def parse_settings(label: str) -> dict[str, Any]:
    """A SweepPoint.label back into its settings: `num_ctx=2048 keep_alive=5m` -> {...}; `defaults` -> {}."""
    if label.strip() in ("", "defaults"):
        return {}
    settings: dict[str, Any] = {}
    for item in label.split():
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"not a sweep setting: {item!r}")
        settings[key] = _value(raw)
    return settings


def _rows(csv_path: Path) -> list[dict[str, Any]]:
    if not csv_path.is_file():
        return []
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    typed = []
    for row in rows:
        typed.append(
            {k: (v if k == "settings" else None if v in ("", None) else _value(v)) for k, v in row.items()}
        )
    return typed


def read_sweep(md_path: Path) -> SweepResult:
    """The sweep whose Markdown page is ``md_path`` (its CSV and PNG beside it)."""
    lines = md_path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith(_TITLE):
        raise ValueError(f"{md_path} is not an option sweep page")
    model = lines[0].removeprefix(_TITLE).strip()
    label = None
    for line in lines[1:6]:
        match = _BEST.match(line.strip())
        if match:
            label = match.group("label")
            parse_settings(label)  # a label that cannot be read back is no recommendation to offer
            break
    stamp = _STAMP.search(md_path.stem)
    if stamp:
        created = datetime.strptime(stamp.group("stamp"), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
    else:
        created = datetime.fromtimestamp(md_path.stat().st_mtime, tz=UTC)
    files = [p for p in (md_path, md_path.with_suffix(".csv"), md_path.with_suffix(".png")) if p.is_file()]
    return SweepResult(md_path.stem, model, created, label, _rows(md_path.with_suffix(".csv")), files)


def list_sweeps(home: Path) -> list[SweepResult]:
    """Every sweep in IA_HOME/data/benchmarks/, newest first."""
    found = []
    folder = reports_dir(home)
    if not folder.is_dir():
        return []
    for md in folder.glob("sweep_*.md"):
        try:
            found.append(read_sweep(md))
        except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
            log.warning("sweep %s skipped: %s", md.name, exc)
    return sorted(found, key=lambda s: s.created or datetime.min.replace(tzinfo=UTC), reverse=True)
