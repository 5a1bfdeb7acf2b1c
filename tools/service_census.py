"""Count ``SwarmService``'s methods, which only forward to a transaction, and who calls each.

    python tools/service_census.py          # a table: method, kind, callers per area
    python tools/service_census.py --sum    # the totals only

A method *forwards* when its body (past the docstring and a local import) is one statement
that awaits ``write``/``read``/``update`` of the store (``self.write``, ``self.store.write``,
``self.db.read``, ``self.store.db.read``, a book's ``self.access.write``...): ``same``
when every argument is one of its own parameters or a module's function, ``parsed`` when an
argument is a parameter passed through a call (``parse_task_ref(ref)``). A *caller* is a
call ``X.name(...)`` whose receiver ``X`` is a name ending in ``service`` or ``svc``
(``service``, ``self.service``, ``bot.service``, ``text_service``...) or a book the
service holds (``--books tasks``: ``service.tasks``); counted by area: front ends (bot/,
automation/), core/, tests/, bench/.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "core" / "service" / "swarm.py"
TRANSACTIONS = {"write", "read", "update"}
HOLDER_ENDS = ("service", "svc")  # service, svc, self.service, bot.service, text_service
AREAS = {"bot": "front", "automation": "front", "core": "core", "tests": "tests", "bench": "bench"}


def _body(fn: ast.AsyncFunctionDef | ast.FunctionDef) -> list[ast.stmt]:
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return [s for s in body if not isinstance(s, ast.Import | ast.ImportFrom)]


def _transaction(expr: ast.expr | None) -> ast.Call | None:
    """The store call ``expr`` awaits, if it awaits one (``await self.write(...)``)."""
    if not isinstance(expr, ast.Await) or not isinstance(expr.value, ast.Call):
        return None
    call = expr.value
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in TRANSACTIONS:
        return None
    names = []
    base: ast.expr = func.value
    while isinstance(base, ast.Attribute):
        names.append(base.attr)
        base = base.value
    if isinstance(base, ast.Name) and base.id == "self" and set(names) <= {"db", "store", "access"}:
        return call
    return None


def forwarding(fn: ast.AsyncFunctionDef | ast.FunctionDef) -> str | None:
    """``same``, ``parsed`` (see the module's docstring) or None: the method does more."""
    body = _body(fn)
    if len(body) != 1 or not isinstance(body[0], ast.Return | ast.Expr):
        return None
    call = _transaction(body[0].value)
    if call is None:
        return None
    params = {a.arg for a in [*fn.args.args, *fn.args.kwonlyargs]} - {"self"}
    kind = "same"
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(arg, ast.Name) and arg.id in params:
            continue
        if isinstance(arg, ast.Attribute | ast.Name):  # lifecycle.start, _refused
            continue
        if isinstance(arg, ast.Call) and all(
            isinstance(a, ast.Name) and a.id in params for a in arg.args
        ):
            kind = "parsed"
            continue
        return None
    return kind


def _is_property(fn: ast.AsyncFunctionDef | ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list)


def methods(cls_name: str = "SwarmService", path: Path = SERVICE) -> dict[str, str | None]:
    """Each method of ``cls_name`` with its forwarding kind (None: it does more)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls_name:
            return {
                f.name: "property" if _is_property(f) else forwarding(f)
                for f in node.body
                if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            }
    raise SystemExit(f"no class {cls_name} in {path}")


def _holder(expr: ast.expr, books: frozenset[str]) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id.endswith(HOLDER_ENDS)
    if isinstance(expr, ast.Attribute):
        return expr.attr.endswith(HOLDER_ENDS) or (
            expr.attr in books and _holder(expr.value, books)
        )
    return False


def callers(names: set[str], books: frozenset[str] = frozenset()) -> dict[str, Counter[str]]:
    """For each name, how many calls ``holder.name(...)`` each area makes."""
    found: dict[str, Counter[str]] = {n: Counter() for n in names}
    for top, area in AREAS.items():
        for path in sorted((ROOT / top).rglob("*.py")):
            if path == SERVICE:
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in names
                    and _holder(node.func.value, books)
                ):
                    found[node.func.attr][area] += 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sum", action="store_true", help="the totals only")
    parser.add_argument("--cls", default="SwarmService", help="the class to count")
    parser.add_argument("--path", type=Path, default=SERVICE, help="its module")
    parser.add_argument("--books", default="", help="books the service holds, comma-separated")
    args = parser.parse_args()
    found = methods(args.cls, args.path)
    calls = callers(set(found), frozenset(b for b in args.books.split(",") if b))
    kinds = Counter(k or "more" for k in found.values())
    if not args.sum:
        print(f"{'method':<22}{'kind':<8}{'front':>6}{'core':>6}{'tests':>6}{'bench':>6}")
        for name, kind in found.items():
            c = calls[name]
            print(
                f"{name:<22}{kind or 'more':<8}"
                f"{c['front']:>6}{c['core']:>6}{c['tests']:>6}{c['bench']:>6}"
            )
    total = Counter[str]()
    for c in calls.values():
        total.update(c)
    print(
        f"{len(found) - kinds['property']} methods and {kinds['property']} properties:"
        f" {kinds['same']} forward as given, {kinds['parsed']} forward"
        f" a parsed argument, {kinds['more']} do more; calls: front ends {total['front']},"
        f" core {total['core']}, tests {total['tests']}, bench {total['bench']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
