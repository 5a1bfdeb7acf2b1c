"""Query functions return typed rows (a frozen dataclass or a NamedTuple per row shape, as
``core.schedules.rows``), not the driver's row or ``Any``: a caller's ``row["colum"]`` typo
is found by mypy, not by a user. The functions not converted yet are listed
(``STILL_UNTYPED``), a list that may only shrink; an entry that is typed now fails too, so
the list stays true."""

from __future__ import annotations

import ast
import re

from tests.helpers import ROOT

_UNTYPED = re.compile(r"\b(Row|Any)\b")  # the driver's row type, not a typed ``TaskRow``

STILL_UNTYPED: tuple[str, ...] = (
    "core/delivery/assign_queries.py:ready_page",
    "core/delivery/assign_queries.py:attempts_of",
    "core/delivery/claim_queries.py:prompt_flags",
    "core/delivery/claim_queries.py:claim_rows",
    "core/delivery/claim_queries.py:claim_of",
    "core/delivery/queries.py:node_rows",
    "core/delivery/queries.py:message_counts",
    "core/delivery/queries.py:delivered_spans",
    "core/delivery/retention_queries.py:old_messages",
    "core/delivery/retention_queries.py:deliveries_of",
    "core/delivery/undelivered_queries.py:failed_for_good",
    "core/delivery/undelivered_queries.py:with_verdict",
    "core/delivery/undelivered_queries.py:holder",
    "core/dialogs/prompt_queries.py:by_id",
    "core/dialogs/prompt_queries.py:open_rows",
    "core/dialogs/prompt_queries.py:hook_row",
    "core/dialogs/prompt_queries.py:untyped_rows",
    "core/dialogs/prompt_queries.py:typing_row",
    "core/dialogs/prompt_queries.py:typed_row",
    "core/tasks/campaign_queries.py:task_rows",
    "core/tasks/held_queries.py:insert",
    "core/tasks/held_queries.py:by_id",
    "core/tasks/held_queries.py:by_key",
    "core/tasks/held_queries.py:undecided",
    "core/tasks/held_queries.py:not_applied",
    "core/tasks/message_queries.py:oldest_due",
    "core/tasks/message_queries.py:pending",
    "core/tasks/message_queries.py:queued_notes",
    "core/tasks/message_queries.py:interrupted",
    "core/tasks/message_queries.py:queued_answers",
    "core/tasks/message_queries.py:last_paste",
    "core/tasks/message_queries.py:last_finished_deliveries",
    "core/tasks/queries.py:mark_done",
    "core/tasks/queries.py:held_holder",
    "core/tasks/queries.py:expired_leases",
    "core/tasks/queries.py:active_tasks",
    "core/tasks/queries.py:open_campaign_of",
    "core/tasks/queries.py:of_plan",
    "core/tasks/queries.py:recent_durations",
)


def _untyped() -> set[str]:
    found = set()
    for path in sorted(ROOT.glob("core/**/*queries*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            if _untyped_return(node.returns):
                found.add(f"{rel}:{node.name}")
    return found


def _untyped_return(returns: ast.expr | None) -> bool:
    """A driver's row or ``Any``, alone or inside (``list[Any]``, ``dict[str, Any]``: a
    row in all but name)."""
    text = ast.unparse(returns) if returns is not None else ""
    return bool(_UNTYPED.search(text))


def test_no_query_outside_the_list_returns_an_untyped_row() -> None:
    new = sorted(_untyped() - set(STILL_UNTYPED))
    assert not new, f"return a typed row (a frozen dataclass or NamedTuple): {new}"


def test_every_listed_query_still_returns_an_untyped_row() -> None:
    typed = sorted(set(STILL_UNTYPED) - _untyped())
    assert not typed, f"typed now: take them off STILL_UNTYPED: {typed}"
