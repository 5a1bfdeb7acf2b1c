"""Every background task has an owner: none is started bare in the product.

A task starts in an ``asyncio.TaskGroup`` (``async with asyncio.TaskGroup() as group:
group.create_task(...)``, its lifetime the block) or in a ``Background`` of
``core/waits.py`` (kept, its failure logged, cancelled and awaited at ``close``), the one
module that calls the loop's ``create_task`` itself. Anything else that starts a task fails:
``asyncio.create_task``, ``asyncio.ensure_future``, ``asyncio.Task(...)``, ``loop.create_task``
on any loop, ``create_task`` imported bare, a ``TaskGroup`` used without its ``async with``.
A call awaited where it is made (``await book.create_task(...)``, a feature's own method of
that name) starts nothing that outlives its line. The scan is by the syntax tree of
``bot/``, ``core/`` and ``automation/``.
"""

from __future__ import annotations

import ast
import functools
import shutil
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT
from tests.source_trees import parsed, walked

PRODUCT = ("bot", "core", "automation")
OWNER = Path("core/waits.py")  # Background: the loop's create_task, once
STARTERS = {"create_task", "ensure_future", "run_coroutine_threadsafe"}


def bare_starts(source: str, name: str = "<planted>") -> list[str]:
    """Where ``source`` starts a task with no owner: ``name:line: the call``."""
    return list(_bare_starts(source, name))


@functools.cache  # the product is scanned three times, the copy's unchanged modules alike
def _bare_starts(source: str, name: str) -> tuple[str, ...]:
    tree = parsed(source)
    awaited = {id(node.value) for node in walked(tree) if isinstance(node, ast.Await)}
    found: list[str] = []
    for call, groups in _calls(tree, frozenset()):
        if id(call) in awaited or not _starts_task(call, groups):
            continue
        found.append(f"{name}:{call.lineno}: {ast.unparse(call.func)}")
    return tuple(found)


def _calls(node: ast.AST, groups: frozenset[str]) -> Iterator[tuple[ast.Call, frozenset[str]]]:
    """Each call with the names bound to a ``TaskGroup`` by an enclosing ``async with``."""
    if isinstance(node, ast.AsyncWith):
        bound = {
            item.optional_vars.id
            for item in node.items
            if _is_task_group(item.context_expr) and isinstance(item.optional_vars, ast.Name)
        }
        groups = groups | bound
    if isinstance(node, ast.Call):
        yield node, groups
    for child in ast.iter_child_nodes(node):
        yield from _calls(child, groups)


def _is_task_group(expr: ast.expr) -> bool:
    """``asyncio.TaskGroup()`` (or ``TaskGroup()`` imported from asyncio)."""
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    if isinstance(func, ast.Attribute):
        return func.attr == "TaskGroup" and ast.unparse(func.value) == "asyncio"
    return isinstance(func, ast.Name) and func.id == "TaskGroup"


def _starts_task(call: ast.Call, groups: frozenset[str]) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in STARTERS  # a bare ``Task`` is the domain's task, not asyncio's
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "Task":
        return ast.unparse(func.value) == "asyncio"
    if func.attr not in STARTERS:
        return False
    return not (isinstance(func.value, ast.Name) and func.value.id in groups)


def bare_in_tree(root: Path) -> list[str]:
    """Every bare start in the product's folders under ``root``, but in the owner."""
    found: list[str] = []
    for folder in PRODUCT:
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root)
            if relative != OWNER:
                found += bare_starts(path.read_text(encoding="utf-8"), str(relative))
    return found


def test_no_task_starts_bare_in_the_product() -> None:
    assert bare_in_tree(ROOT) == []


def test_the_owner_is_the_one_place_that_starts_a_task_itself() -> None:
    # the allowance is not vacuous: Background.start calls the loop's create_task
    assert len(bare_starts((ROOT / OWNER).read_text(encoding="utf-8"))) == 1


PLANTED = {
    "asyncio.create_task": "async def f():\n    asyncio.create_task(g())\n",
    "asyncio.ensure_future": "async def f():\n    x = asyncio.ensure_future(g())\n",
    "a loop's": "async def f():\n    asyncio.get_running_loop().create_task(g())\n",
    "a loop named": "def f(loop):\n    loop.create_task(g())\n",
    "imported bare": "from asyncio import create_task\nasync def f():\n    create_task(g())\n",
    "asyncio.Task": "async def f():\n    asyncio.Task(g())\n",
    "a group outside its block": (
        "async def f():\n    group = asyncio.TaskGroup()\n    group.create_task(g())\n"
    ),
    "another group's name": (
        "async def f(other):\n"
        "    async with asyncio.TaskGroup() as group:\n"
        "        other.create_task(g())\n"
    ),
}


def test_each_planted_bare_start_fails() -> None:
    for what, source in PLANTED.items():
        assert len(bare_starts(source)) == 1, what


def test_a_task_group_and_an_awaited_call_pass() -> None:
    owned = (
        "async def f(book):\n"
        "    async with asyncio.TaskGroup() as group:\n"
        "        group.create_task(g())\n"
        "    await book.create_task(spec)\n"
    )
    assert bare_starts(owned) == []


def test_a_bare_start_planted_in_a_copy_of_the_product_fails(tmp_path: Path) -> None:
    for folder in PRODUCT:
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.pyc"))
    assert bare_in_tree(tmp_path) == []
    host = tmp_path / "automation" / "protocol" / "host.py"
    source = host.read_text(encoding="utf-8")
    planted = source.replace(
        'self._tasks.start(self._said_output_end(process), name="host-output-end")',
        "asyncio.get_running_loop().create_task(self._said_output_end(process))",
    )
    assert planted != source
    host.write_text(planted, encoding="utf-8")
    assert bare_in_tree(tmp_path) == [
        f"automation/protocol/host.py:{_line_of(planted, 'create_task')}: "
        "asyncio.get_running_loop().create_task"
    ]


def _line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


def lossy_waits(source: str, name: str = "<planted>") -> list[str]:
    """Where ``source`` waits by ``asyncio.wait_for`` (Python 3.11's loses a cancel that
    comes as what it awaits ends: ``core.waits.within`` does not): ``name:line``."""
    tree = parsed(source)
    found = [
        f"{name}:{node.lineno}"
        for node in walked(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "wait_for"
        and ast.unparse(node.value) == "asyncio"
    ]
    found += [
        f"{name}:{node.lineno}"
        for node in walked(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module == "asyncio"
        and any(alias.name == "wait_for" for alias in node.names)
    ]
    return found


def test_no_wait_in_the_product_loses_a_cancel() -> None:
    found = []
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            found += lossy_waits(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []


def test_each_planted_lossy_wait_fails_and_another_wait_for_passes() -> None:
    assert lossy_waits("async def f():\n    await asyncio.wait_for(g(), 5)\n") == ["<planted>:2"]
    assert len(lossy_waits("from asyncio import wait_for\n")) == 1
    assert lossy_waits("async def f(server):\n    await server.wait_for(ready, 5)\n") == []
