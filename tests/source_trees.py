"""The product's sources parsed once per test process: the structure tests each walk every
module of the product, and parsed it again each time (0.6 s of CPU a pass, ~30 s a suite).
A tree is kept by its source text, so a planted copy is a tree of its own; no test may change
a tree it is given. Its nodes are listed once too (``ast.walk`` is Python, 0.4 s of CPU a pass
over the product, done by some thirty tests)."""

from __future__ import annotations

import ast
import functools


@functools.cache
def parsed(source: str) -> ast.Module:
    """``source`` parsed (the same object for the same text: read only)."""
    return ast.parse(source)


@functools.cache
def walked(tree: ast.AST) -> tuple[ast.AST, ...]:
    """Every node of ``tree`` in ``ast.walk``'s order (a tree of ``parsed``: kept, read only)."""
    return tuple(ast.walk(tree))
