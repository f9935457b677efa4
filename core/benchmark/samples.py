"""The rows of a samples file and what each one runs; the one place where a model's reply becomes code.

A row names its problem (``task_id``) and carries its code in one of three fields, looked at in this order
(ROW_KINDS; EvalPlus also prefers ``solution`` when a row has both):
    solution    EvalPlus: the whole program, run as it is;
    completion  HumanEval: the program is the problem's prompt followed by the completion;
    raw         a model's reply: the code is extracted exactly as `run` does (extract_reply), in the row's
                ``style`` (``chat`` unless the row says ``complete``). A reply with no code in it is
                "nothing extracted" and is not run; a raw row with an ``error`` (a generation that failed, as
                `run` records it) is not run either.
Vision problems are answered in words: their ``completion`` is the answer and a ``raw`` reply gives it
through multimodal.answer_text; a ``solution`` row is refused.

Public API:
    ROW_KINDS = ("solution", "completion", "raw");  MALFORMED = "malformed row"
    extract_reply(problem, reply, style="chat", *, cut=None) -> Extracted(code, completion)  # used by `run`
    row_kind(row, prefer=None) -> str        # which field holds the row's code; RowError when none does
    prepare(problems, row, prefer=None) -> Job(kind, code, skip, reason)              # RowError when unusable
``prefer`` reads a row by that field when it has it (``rescore`` reads a run's replies, not its completions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.benchmark.extraction import STYLES, build_program, extract_code, to_completion
from core.benchmark.multimodal import answer_text

__all__ = [
    "MALFORMED",
    "NOTHING_EXTRACTED",
    "ROW_KINDS",
    "Extracted",
    "Job",
    "RowError",
    "extract_reply",
    "was_cut",
    "prepare",
    "row_kind",
]

ROW_KINDS = ("solution", "completion", "raw")
# The reason of a row that names no known problem or holds no code: it is kept in the results, never scored.
MALFORMED = "malformed row"
NOTHING_EXTRACTED = "nothing extracted"


class RowError(ValueError):
    """A row that cannot be scored; the message says why, in words for the results file."""


@dataclass(frozen=True)
class Extracted:
    """What a reply holds: ``code`` as extraction found it, and the samples-file ``completion`` (the program
    is prompt + completion). Both are "" when the reply holds no code; for a vision problem both are the
    answer text."""

    code: str
    completion: str

    @property
    def nothing(self) -> bool:
        return not self.code.strip()


def _is_vision(problem: Any) -> bool:
    return getattr(problem, "kind", "code") == "vision"


def was_cut(done_reason: Any) -> bool | None:
    """Whether the token limit ended a reply, from the server's done_reason ("length"); None: not recorded."""
    return None if done_reason is None else done_reason == "length"


def extract_reply(problem: Any, reply: str, style: str = "chat", *, cut: bool | None = None) -> Extracted:
    """The code (or a vision problem's answer) in a model's reply, and the completion `run` saves for it.
    ``cut``: the token limit ended the reply (see was_cut), so its unfinished last line is dropped."""
    if _is_vision(problem):
        answer = answer_text(reply)
        return Extracted(answer, answer)
    code = extract_code(reply, problem, style, cut=cut)
    if not code.strip():
        return Extracted("", "")
    return Extracted(code, to_completion(problem, code, style))


@dataclass(frozen=True)
class Job:
    """What one row asks for: ``code`` is the program to run (a vision problem: the answer to compare).
    ``skip`` is the result text when nothing is to run (``reason`` then says why, one of sandbox.REASONS)."""

    kind: str
    code: str
    skip: str = ""
    reason: str = ""


def row_kind(row: Mapping[str, Any], prefer: str | None = None) -> str:
    """The field that holds a row's code (``prefer`` first when the row has it, then ROW_KINDS in order)."""
    order = ((prefer,) if prefer else ()) + ROW_KINDS
    for kind in order:
        if kind in row:
            if not isinstance(row[kind], str):
                raise RowError(f"'{kind}' is not text ({type(row[kind]).__name__})")
            return kind
    raise RowError("no 'solution', 'completion' or 'raw' field: nothing to score")


def prepare(problems: Mapping[str, Any], row: Mapping[str, Any], prefer: str | None = None) -> Job:
    """The Job of a row; RowError when the row names no known problem or holds no usable code."""
    task_id = row.get("task_id")
    if not isinstance(task_id, str):
        raise RowError("no 'task_id'" if task_id is None else f"'task_id' is not text ({task_id!r})")
    problem = problems.get(task_id)
    if problem is None:
        raise RowError(f"task_id {task_id!r} is not in the problem set")
    kind = row_kind(row, prefer)
    text = row[kind]
    if _is_vision(problem):
        if kind == "solution":
            raise RowError("a vision problem is answered in words: give the answer as 'completion' or 'raw'")
        return Job(kind, answer_text(text) if kind == "raw" else text)
    if kind == "solution":
        return Job(kind, text)
    if kind == "completion":
        return Job(kind, build_program(problem, text))
    error = row.get("error")
    if error:
        return Job(
            kind, "", f"failed: {NOTHING_EXTRACTED}: the generation failed ({error})", NOTHING_EXTRACTED
        )
    style = row.get("style") or "chat"
    if style not in STYLES:
        raise RowError(f"style {style!r} is not one of {', '.join(STYLES)}")
    extracted = extract_reply(problem, text, style, cut=was_cut(row.get("done_reason")))
    if extracted.nothing:
        return Job(kind, "", f"failed: {NOTHING_EXTRACTED} (the reply holds no code)", NOTHING_EXTRACTED)
    return Job(kind, build_program(problem, extracted.completion))
