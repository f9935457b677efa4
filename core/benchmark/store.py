"""Where benchmark runs live on disk: `data/generated/<model>/<run>/` and `data/benchmarks/`.

A run folder holds `run.json` (what was asked, keyed by model digest, backend version and options),
`samples.jsonl` (HumanEval samples format plus our measurements, appended and flushed one line per sample),
`code/` (one program per sample) or, for a vision suite, `answers/` (one answer text per sample), and after
evaluation `results.jsonl` and `summary.json`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import BenchmarkError

__all__ = [
    "RunInfo",
    "RunStore",
    "SampleWriter",
    "find_run",
    "generated_dir",
    "list_runs",
    "options_label",
    "read_jsonl",
    "reports_dir",
    "run_key",
    "safe_name",
    "write_json",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_name(name: str, max_len: int = 80) -> str:
    """A folder name safe on Windows, macOS and Linux: `library/llama3:8b` -> `library__llama3_8b`."""
    text = name.replace("/", "__").replace("\\", "__")
    text = _UNSAFE.sub("_", text).strip(" .") or "model"
    if text.split(".")[0].upper() in _RESERVED:
        text = f"_{text}"
    if len(text) > max_len:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        text = f"{text[: max_len - 9]}-{digest}"
    return text


def generated_dir(home: Path) -> Path:
    return Path(home) / "data" / "generated"


def reports_dir(home: Path) -> Path:
    return Path(home) / "data" / "benchmarks"


def options_label(options: dict[str, Any]) -> str:
    """Stable short text for a set of options, e.g. `num_ctx=4096 seed=0 temperature=0`."""
    shown = {k: v for k, v in sorted(options.items()) if k != "stop"}
    return " ".join(f"{k}={v}" for k, v in shown.items()) or "defaults"


def run_key(
    model: str,
    digest: str,
    backend_version: str,
    options: dict[str, Any],
    style: str,
    suite: str,
    limit: int | None = None,
) -> str:
    """The identity of a configuration across runs: same key = same model build, backend, options and problems."""
    fields: dict[str, Any] = {
        "model": model,
        "digest": digest,
        "backend": backend_version,
        "options": options,
        "style": style,
        "suite": suite,
    }
    if limit:
        fields["limit"] = limit  # only the first N problems: another problem set
    payload = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def write_json(path: Path, data: Any) -> None:
    """Atomic JSON write (temp file + fsync + rename) so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """Records of a JSONL file and the numbers of lines that could not be read (e.g. a line cut by a crash)."""
    records: list[dict[str, Any]] = []
    bad: list[int] = []
    if not path.exists():
        return records, bad
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                bad.append(number)
                continue
            if isinstance(value, dict):
                records.append(value)
            else:
                bad.append(number)
    return records, bad


@dataclass
class RunInfo:
    """`run.json`: everything that identifies a run and how to resume it."""

    run_id: str
    model: str
    digest: str
    backend_version: str
    backend: str
    hosts: list[str]
    style: str
    suite: str
    n: int
    options: dict[str, Any]
    limit: int | None
    timeout: float
    key: str
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    status: str = "running"  # running | interrupted | generated | complete
    problems: int = 0
    sandbox: str = ""  # isolation level that scored the samples (vision: not used, answers are text)
    kind: str = "code"  # "code" (programs run in the sandbox) | "vision" (answers about images, compared)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInfo:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class RunStore:
    """Paths and files of one run folder."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self.run_json = self.dir / "run.json"
        self.samples = self.dir / "samples.jsonl"
        self.results = self.dir / "results.jsonl"
        self.summary = self.dir / "summary.json"
        self.code_dir = self.dir / "code"
        self.answers_dir = self.dir / "answers"

    @classmethod
    def create(cls, home: Path, info: RunInfo) -> RunStore:
        """Make the run folder; FileExistsError when it exists (the runner then picks another run id)."""
        directory = generated_dir(home) / safe_name(info.model) / info.run_id
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir()  # atomic: two runs started in the same second never share a folder
        store = cls(directory)
        store.save_info(info)
        return store

    def load_info(self) -> RunInfo:
        if not self.run_json.exists():
            raise BenchmarkError(f"{self.dir} is not a benchmark run (no run.json).")
        try:
            return RunInfo.from_dict(json.loads(self.run_json.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError) as exc:
            raise BenchmarkError(
                f"{self.run_json} cannot be read ({exc}); the run folder is left untouched."
            ) from exc

    def save_info(self, info: RunInfo) -> None:
        write_json(self.run_json, info.to_dict())

    def load_samples(self) -> list[dict[str, Any]]:
        """Samples, the last record winning for each (task_id, sample_index); unreadable lines are skipped."""
        records, _bad = read_jsonl(self.samples)
        latest: dict[tuple[str, int], dict[str, Any]] = {}
        for rec in records:
            if "task_id" in rec:
                latest[(str(rec["task_id"]), int(rec.get("sample_index", 0)))] = rec
        return list(latest.values())

    def load_results(self) -> list[dict[str, Any]]:
        return read_jsonl(self.results)[0]

    def load_summary(self) -> dict[str, Any] | None:
        if not self.summary.exists():
            return None
        try:
            return json.loads(self.summary.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return None


class SampleWriter:
    """Appends samples one whole line at a time (flushed and fsynced) and writes each sample's file."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._repair_tail()

    def _repair_tail(self) -> None:
        # A crash mid-write can leave a last line without newline: end it so the next record starts clean.
        path = self.store.samples
        if path.exists() and path.stat().st_size:
            with path.open("rb+") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    fh.write(b"\n")

    def write(self, record: dict[str, Any], text: str, *, folder: str = "code", suffix: str = ".py") -> None:
        """Save `text` as `<folder>/<task>_<index><suffix>` (recorded as `code_file`), then append the record."""
        name = f"{safe_name(str(record['task_id']))}_{int(record['sample_index'])}{suffix}"
        record = dict(record, code_file=f"{folder}/{name}")
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            directory = self.store.dir / folder
            directory.mkdir(parents=True, exist_ok=True)
            (directory / name).write_text(text, encoding="utf-8")
            with self.store.samples.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())


def list_runs(home: Path) -> list[RunStore]:
    """Every run folder under data/generated, oldest first."""
    base = generated_dir(home)
    stores = [RunStore(p.parent) for p in base.glob("*/*/run.json")]
    return sorted(stores, key=lambda s: (s.dir.name, s.dir.parent.name))


def find_run(home: Path, ref: str) -> RunStore:
    """A run by folder path, `<model>/<run_id>` or run id (unique prefix allowed); BenchmarkError otherwise."""
    path = Path(ref)
    if (path / "run.json").exists():
        return RunStore(path)
    base = generated_dir(home)
    if (base / ref / "run.json").exists():
        return RunStore(base / ref)
    matches = [s for s in list_runs(home) if s.dir.name == ref] or [
        s for s in list_runs(home) if s.dir.name.startswith(ref)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise BenchmarkError(f"No benchmark run '{ref}' under {base}: see `python main_benchmark.py list`.")
    names = ", ".join(f"{m.dir.parent.name}/{m.dir.name}" for m in matches)
    raise BenchmarkError(f"'{ref}' matches several runs ({names}): give the full <model>/<run> name.")
