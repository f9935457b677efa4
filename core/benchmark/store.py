"""Where benchmark runs live on disk: `data/generated/<model>/<run>/` and `data/benchmarks/`.

A run folder holds `run.json` (what was asked, keyed by model digest, backend version and options),
`samples.jsonl` (HumanEval samples format plus our measurements, appended and flushed one line per sample),
`code/` (one program per sample) or, for a vision suite, `answers/` (one answer text per sample), and after
evaluation `results.jsonl` and `summary.json`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.benchmark import records
from core.benchmark.records import Malformed
from core.errors import BenchmarkError
from core.fileio import append_lines
from core.i18n import _

if TYPE_CHECKING:
    from core.benchmark.summary import RunSummary

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
    """Atomic JSON write (temp file + fsync + rename) so a crash never leaves half a file; any character
    is written (escaped when UTF-8 cannot hold it, see core.benchmark.records)."""
    records.write_json(path, data)


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """Records of a JSONL file and the numbers of lines that could not be read (e.g. a line cut by a crash)."""
    if not path.exists():
        return [], []
    rows = records.read_rows(path)
    return [r for r in rows if isinstance(r, dict)], [r.line for r in rows if isinstance(r, Malformed)]


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
            raise BenchmarkError(_("{path} is not a benchmark run (no run.json).").format(path=self.dir))
        try:
            data = json.loads(self.run_json.read_bytes().decode("utf-8", errors="surrogateescape"))
            return RunInfo.from_dict(data)
        except (json.JSONDecodeError, TypeError, AttributeError) as exc:
            raise BenchmarkError(
                _("{path} cannot be read ({error}); the run folder is left untouched.").format(
                    path=self.run_json, error=exc
                )
            ) from exc

    def save_info(self, info: RunInfo) -> None:
        write_json(self.run_json, info.to_dict())

    def load_samples(self) -> list[dict[str, Any]]:
        """Samples, the last record winning for each (task_id, sample_index); unreadable lines are skipped."""
        return self.load_sample_rows()[0]

    def load_sample_rows(self) -> tuple[list[dict[str, Any]], list[Malformed]]:
        """Samples (the last record winning for each (task_id, sample_index)) and the lines that are not a
        sample: not JSON (a line cut by a crash) or a record without a task_id, kept so nothing is lost."""
        if not self.samples.exists():
            return [], []
        latest: dict[tuple[str, int], dict[str, Any]] = {}
        bad: list[Malformed] = []
        for number, row in records.read_numbered(self.samples):
            if isinstance(row, Malformed):
                bad.append(row)
                continue
            try:
                key = (str(row["task_id"]), int(row.get("sample_index", 0)))
            except (KeyError, TypeError, ValueError):
                bad.append(Malformed(number, "not a sample (no task_id or sample_index)", records.dumps(row)))
                continue
            latest[key] = row
        return list(latest.values()), bad

    def load_results(self) -> list[dict[str, Any]]:
        return read_jsonl(self.results)[0]

    def load_summary(self) -> RunSummary | None:
        """The run's summary.json as a RunSummary (old files included); None when there is none or it is
        not a JSON object (a run scored again rewrites it)."""
        from core.benchmark.summary import RunSummary

        if not self.summary.exists():
            return None
        try:
            data = json.loads(self.summary.read_bytes().decode("utf-8", errors="surrogateescape"))
        except (OSError, json.JSONDecodeError, RecursionError):
            return None
        return RunSummary.from_dict(data) if isinstance(data, dict) else None


class SampleWriter:
    """Appends samples one whole line at a time (fsynced) and writes each sample's file."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any], text: str, *, folder: str = "code", suffix: str = ".py") -> None:
        """Save `text` as `<folder>/<task>_<index><suffix>` (recorded as `code_file`), then append the record
        as one whole line, fsynced (a line cut by an earlier crash is ended first: core.fileio.append_lines)."""
        name = f"{safe_name(str(record['task_id']))}_{int(record['sample_index'])}{suffix}"
        record = dict(record, code_file=f"{folder}/{name}")
        line = records.dumps(record) + "\n"  # any character of a reply lands, escaped if need be
        with self._lock:
            records.write_text(self.store.dir / folder / name, text)
            append_lines(self.store.samples, line, sync=True)


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
        raise BenchmarkError(
            _("No benchmark run '{ref}' under {path}: see `python main_benchmark.py list`.").format(
                ref=ref, path=base
            )
        )
    names = ", ".join(f"{m.dir.parent.name}/{m.dir.name}" for m in matches)
    raise BenchmarkError(
        _("'{ref}' matches several runs ({names}): give the full <model>/<run> name.").format(
            ref=ref, names=names
        )
    )
