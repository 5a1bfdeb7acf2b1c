"""A message's target is two columns, not a grammar (issue 42, item 4): ``messages.target_kind``
(``core.models.TargetKind``) and ``target_name``. No module builds or reads a "kind:name"
target string: no ``startswith``/``removeprefix`` with a target prefix, no ``*_TARGET``
prefix constant, no ``target LIKE`` or ``substr(target`` in SQL, no f-string that begins
with a target prefix."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import ROOT
from tests.source_trees import parsed, walked

# a target prefix: a kind and a colon, no space after it ("note: ..." is prose)
PREFIX = re.compile(r"(agent|role|note|reset|withdraw):(?!\s)")
_CONSTANTS = {"NOTE_TARGET", "RESET_TARGET", "WITHDRAW_TARGET"}
_SQL = re.compile(
    r"\btarget\s+(NOT\s+)?LIKE\b|substr\(\s*target\b|'(agent|role|note|reset|withdraw):'\s*\|\|",
    re.IGNORECASE,
)
# Where a "kind:name" string is not a stored target: the front ends that build a schedule's
# target as a person types it (``--target agent:NAME``; ``recurring.parse_target`` reads it
# once, the schedules table keeps its kind and name); a Discord card that shows an old
# ``message.queued`` event's ``target`` text.
ALLOWED = {
    Path("bot/discordbot/watch_commands.py"): "builds a schedule's target from /watch",
    Path("bot/cli/watch.py"): "builds a schedule's target from --agent/--role",
    Path("core/posts/notify.py"): "shows a message.queued event's target text",
}


def _prefixed(node: ast.expr) -> bool:
    """A target prefix: a literal starting with one, a ``*_TARGET`` constant, or a tuple
    holding one."""
    if isinstance(node, ast.Tuple):
        return any(_prefixed(item) for item in node.elts)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return PREFIX.match(node.value) is not None
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name in _CONSTANTS


def _grammar(source: str) -> list[int]:
    """The lines of ``source`` that build or read a message target's grammar."""
    lines = []
    for node in walked(parsed(source)):
        found = False
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            found = node.func.attr in ("startswith", "removeprefix") and any(
                _prefixed(arg) for arg in node.args
            )
        elif isinstance(node, ast.Name | ast.Attribute):
            found = (node.id if isinstance(node, ast.Name) else node.attr) in _CONSTANTS
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found = bool(_SQL.search(node.value))
        elif isinstance(node, ast.JoinedStr) and node.values:
            found = _prefixed(node.values[0])
        if found:
            lines.append(getattr(node, "lineno", 0))
    return sorted(set(lines))


def test_the_check_sees_a_target_read() -> None:
    assert _grammar('if d.target.startswith(("reset:", "x")):\n    pass\n') == [1]
    assert _grammar("x = 1\nok = target.startswith(WITHDRAW_TARGET)\n") == [2]
    assert _grammar('sql = "SELECT id, substr(target, 7) FROM m"\n') == [1]
    assert _grammar("sql = \"WHERE hm.target LIKE 'agent:%'\"\n") == [1]
    assert _grammar('t = f"note:{agent}"\n') == [1]
    assert _grammar('t = str(data.get("target", "")).removeprefix("agent:")\n') == [1]
    assert _grammar("ok = d.target.kind is TargetKind.reset\n") == []
    assert _grammar('line = f"{agent}: hello"\n') == []
    assert _grammar('lines = [f"note: {note}" for note in notes]\n') == []


def test_no_module_reads_a_target_prefix() -> None:
    found = []
    for folder in ("core", "bot", "automation"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative in ALLOWED:
                continue
            found += [f"{relative}:{n}" for n in _grammar(path.read_text("utf-8"))]
    assert found == [], "read messages.target_kind (TargetKind), not a 'kind:name' string"
