"""Front ends reach the domain through feature services only.

No module under ``bot/`` or ``automation/`` touches the store (an attribute named ``db``,
or the service's ``store``: ``stats.collect(service.store)`` is a second door) or runs a
transaction function itself (``service.read(links.all_links, ...)``,
``service.write(actor, fn, ...)``, ``service.update(partial(fn, ...), ...)``): it calls a
named operation of the feature's service (``service.posts.keep_post(post)``). The scan is
by the syntax tree, so it needs no type: a call of ``read``/``write``/``update``/
``write_concurrent`` is a transaction call when one of its arguments is a function of the
module, a name imported from the product (``core``, ``bot``, ``automation``), an attribute of
an imported module, a lambda, or a ``partial`` of one of these, or when it is called on a
``service``, ``access`` or ``store`` (``fn = links.all_links; service.read(fn)`` too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT
from tests.source_trees import parsed, walked

FRONT_ENDS = ("bot", "automation")
PRODUCT = {"core", "bot", "automation"}
TRANSACTION_CALLS = {"read", "write", "update", "write_concurrent"}
HOLDERS = {"service", "access", "store"}  # ``service.read(fn, ...)`` whatever ``fn`` is

# Today's exceptions: the file, how many places, why (the list only shrinks: a file with
# more places fails, and so does one with fewer until its count is lowered). The composition
# root holds the store it opens; the others are files other work is changing, each with the
# feature operation it is to call.
EXCEPTIONS: dict[str, tuple[int, str]] = {}  # none left: keep it so


def _bound_names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """The module's functions and the names it imports from the product; the modules it
    imports (any package: ``import json`` is a module whose functions are not data)."""
    functions: set[str] = set()
    modules: set[str] = set()
    for node in walked(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").split(".")[0] in PRODUCT:
                functions.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
    return functions, modules


def _is_function(arg: ast.expr, functions: set[str], modules: set[str]) -> bool:
    if isinstance(arg, ast.Lambda):
        return True
    if isinstance(arg, ast.Name):
        return arg.id in functions
    if isinstance(arg, ast.Attribute):  # links.all_links, core.github.links.all_links
        base = arg.value
        while isinstance(base, ast.Attribute):
            base = base.value
        return isinstance(base, ast.Name) and (base.id in functions or base.id in modules)
    if isinstance(arg, ast.Call) and _called(arg.func) == "partial" and arg.args:
        return _is_function(arg.args[0], functions, modules)
    return False


def _called(func: ast.expr) -> str | None:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def store_access(source: str) -> Iterator[tuple[int, str]]:
    """Each place in ``source`` that reaches the store or runs a transaction function:
    ``(line, code)``."""
    tree = parsed(source)
    functions, modules = _bound_names(tree)
    for node in walked(tree):
        if isinstance(node, ast.Attribute) and (
            node.attr == "db" or (node.attr == "store" and _called(node.value) == "service")
        ):
            yield node.lineno, ast.unparse(node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in TRANSACTION_CALLS
        ):
            given = [*node.args, *(k.value for k in node.keywords)]
            if _called(node.func.value) in HOLDERS or any(
                _is_function(arg, functions, modules) for arg in given
            ):
                yield node.lineno, ast.unparse(node.func)


def _front_end_files() -> Iterator[Path]:
    for package in FRONT_ENDS:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_front_ends_run_no_transaction_and_hold_no_store() -> None:
    found: dict[str, list[str]] = {}
    for path in _front_end_files():
        name = str(path.relative_to(ROOT))
        for line, code in store_access(path.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(f"{name}:{line}: {code}")
    unexpected = [site for name, sites in found.items() if name not in EXCEPTIONS for site in sites]
    assert unexpected == [], "call the feature's service instead:\n" + "\n".join(unexpected)
    counts = {name: len(found.get(name, [])) for name in EXCEPTIONS}
    assert counts == {name: count for name, (count, _) in EXCEPTIONS.items()}, found


def test_the_scan_finds_each_way_to_run_a_transaction() -> None:
    source = """
import functools
from functools import partial
from core.github import links
from core.posts.queries import keep_post
import core.reports.dashboard
from .near import nearby

def _mine(conn, task_id):
    return None

async def handler(service, bot, out, text, post):
    await service.read(links.all_links, "o/r", 5)
    await bot.service.write("me", links.decide_ci, 3, "retry")
    await service.update(partial(keep_post, by="x"), post)
    await service.update(functools.partial(keep_post), post)
    await service.read(_mine, 3)
    await service.read(lambda conn: None)
    await service.read(core.reports.dashboard.read_snapshot)
    await service.write_concurrent(nearby)
    await service.read(fn=keep_post)
    fn = keep_post
    await bot.service.read(fn)
    service.db.read_only
    out.write(text)
    out.write(post.text)
    await stats.collect(bot.service.store, "7d")
    running(service.store)
    store.read_only
"""
    lines = sorted(line for line, _ in store_access(source))
    assert lines == [13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 27, 28]


def test_file_writes_are_not_transactions() -> None:
    source = """
import os
import json
SEP = b"x"

def dump(out, fd, values, root, data):
    out.write(json.dumps(data))
    out.write(SEP)
    os.write(fd, data)
    values.update(app="chat", size=len(data))
    root.update()
    return out.read(4096)
"""
    assert list(store_access(source)) == []


def books_built(source: str) -> Iterator[tuple[int, str]]:
    """Each place in ``source`` that builds a feature's book (``*Book(...)``) from a store
    (``XBook(service.store)``) instead of taking ``service.<book>``: ``(line, code)``."""
    for node in walked(parsed(source)):
        if (
            isinstance(node, ast.Call)
            and (_called(node.func) or "").endswith("Book")
            and any(isinstance(a, ast.Attribute) and a.attr == "store" for a in node.args)
        ):
            yield node.lineno, ast.unparse(node)


def test_front_ends_take_each_book_from_the_service() -> None:
    """One door to a feature: ``service.reports``, never ``ReportBook(service.store)``."""
    found = {
        f"{path.relative_to(ROOT)}:{line}": code
        for front in FRONT_ENDS
        for path in sorted((ROOT / front).rglob("*.py"))
        for line, code in books_built(path.read_text(encoding="utf-8"))
    }
    assert found == {}, "take the book from the service (SwarmService's attributes)"


def test_a_book_built_from_the_store_is_found() -> None:
    source = """
book = ReportBook(service.store)
found = await TokenBook(ctx.service.store).lookup(token)
link = await GitHubBook(service.store).link_of_task(1)
reports = service.reports
"""
    assert [line for line, _ in books_built(source)] == [2, 3, 4]
