"""``SwarmService`` is composed, not a store (issue 42, item 3).

It holds a ``StoreAccess`` (``service.store``) and the feature services (the books:
``service.tasks``, ``service.questions``...); it inherits nothing, so holding it is not a way
to run any transaction. A method of its own that only forwards (its body, past the
docstring and a local import, one awaited call of ``self.store``'s or of a book's) belongs
in the feature's book: today's such methods are listed below, a list that only shrinks
(a new one fails, and so does one gone until its name is taken off).
"""

from __future__ import annotations

import ast
from pathlib import Path

from core.service.swarm import SwarmService
from core.store.access import StoreAccess
from tests.helpers import ROOT
from tests.source_trees import parsed

SOURCE = ROOT / "core" / "service" / "swarm.py"
STORE_CALLS = {"write", "read", "update", "write_concurrent"}

# Forwarders still on SwarmService, each a feature's book to move to (the list only shrinks).
FORWARDERS: dict[str, str] = {}


def _the_class(source: str, name: str = "SwarmService") -> ast.ClassDef:
    tree = parsed(source)
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)


def _forwards(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """One statement (past the docstring and local imports) awaiting a call on ``self.X...``
    where ``X`` is the store (a transaction: ``self.store.write(...)``,
    ``self.store.db.read(...)``, or an inherited ``self.write(...)``) or another attribute
    (a book: ``self.tasks.complete(...)``)."""
    body = [s for s in fn.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Return | ast.Expr):
        return False
    value = body[0].value
    if not isinstance(value, ast.Await) or not isinstance(value.value, ast.Call):
        return False
    func = value.value.func
    if not isinstance(func, ast.Attribute):
        return False
    chain = []
    base: ast.expr = func.value
    while isinstance(base, ast.Attribute):
        chain.append(base.attr)
        base = base.value
    if not (isinstance(base, ast.Name) and base.id == "self"):
        return False
    if not chain or chain[-1] in {"store", "db"}:  # self.write(), self.store.db.read()
        return func.attr in STORE_CALLS  # self.store.db.close() runs no transaction
    return True


def forwarders(source: str) -> set[str]:
    """The methods of ``SwarmService`` in ``source`` that only forward."""
    cls = _the_class(source)
    return {
        f.name
        for f in cls.body
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and _forwards(f)
    }


def bases(source: str) -> list[str]:
    return [ast.unparse(b) for b in _the_class(source).bases]


def test_the_service_inherits_nothing_and_runs_no_transaction(service: SwarmService) -> None:
    assert not issubclass(SwarmService, StoreAccess)
    assert bases(SOURCE.read_text(encoding="utf-8")) == []
    assert isinstance(service.store, StoreAccess)
    assert [n for n in ("write", "read", "update", "db") if hasattr(service, n)] == []


def test_no_method_only_forwards_but_those_listed() -> None:
    found = forwarders(SOURCE.read_text(encoding="utf-8"))
    new = sorted(found - set(FORWARDERS))
    assert new == [], f"move these into the feature's book (service.tasks and the like): {new}"
    gone = sorted(set(FORWARDERS) - found)
    assert gone == [], f"no longer forwarders: take them off FORWARDERS: {gone}"


def test_the_scan_finds_a_forwarder_of_each_kind(tmp_path: Path) -> None:
    source = '''
class StoreAccess: ...

class SwarmService(StoreAccess):
    async def one(self, ref, actor):
        """A docstring."""
        await self.store.write(actor, lifecycle.cancel, parse_task_ref(ref))

    async def two(self, ref):
        from core.inbox import needs
        return await self.store.db.read(needs.show, ref, self.ctx("swarm"))

    async def three(self, ref, actor):
        return await self.tasks.complete(ref, actor)

    async def composes(self, ref, actor):
        await self.tasks.complete(ref, actor)
        await self.workspaces.after_done(ref, actor)

    async def four(self, text, actor):
        return await self.write(actor, messages.broadcast, text)

    async def close(self):
        await self.store.db.close()

    async def computes(self, agent):
        return await helper(self.store, agent)

    @property
    def settings(self):
        return self.store.settings
'''
    assert forwarders(source) == {"one", "two", "three", "four"}
    assert bases(source) == ["StoreAccess"]
