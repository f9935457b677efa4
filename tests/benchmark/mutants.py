"""Single-point mutants of a solution (off-by-one constants, flipped comparisons, swapped + and -)."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator

__all__ = ["mutants"]

_COMPARE_SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add}


def _sites(tree: ast.AST) -> list[tuple[int, str]]:
    sites = []
    for index, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _COMPARE_SWAPS:
            sites.append((index, "compare"))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            sites.append((index, "binop"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            sites.append((index, "constant"))
    return sites


def mutants(source: str) -> Iterator[str]:
    """Every program obtained from ``source`` by changing exactly one operator or integer constant."""
    tree = ast.parse(source)
    for index, kind in _sites(tree):
        mutant = copy.deepcopy(tree)
        node = list(ast.walk(mutant))[index]
        if kind == "compare":
            node.ops[0] = _COMPARE_SWAPS[type(node.ops[0])]()
        elif kind == "binop":
            node.op = _BINOP_SWAPS[type(node.op)]()
        else:
            node.value += 1
        yield ast.unparse(mutant)
