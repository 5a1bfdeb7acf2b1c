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
    "core/accounts/queries.py:not_closed",
    "core/accounts/queries.py:of_account",
    "core/accounts/queries.py:task_takers",
    "core/accounts/queries.py:ready_takers",
    "core/agents/alert_queries.py:insert_open",
    "core/agents/alert_queries.py:open_row",
    "core/agents/alert_queries.py:open_of",
    "core/agents/alert_queries.py:open_pairs",
    "core/agents/alert_queries.py:rows",
    "core/agents/alert_queries.py:opened_per_agent",
    "core/agents/queries.py:assignable_rows",
    "core/agents/queries.py:hook_word",
    "core/agents/queries.py:oldest_open_question",
    "core/agents/queries.py:oldest_open_questions",
    "core/agents/queries.py:state_rows_by_id",
    "core/agents/queries.py:agents_in_state",
    "core/agents/queries.py:probe_view",
    "core/agents/signal_queries.py:active_rows",
    "core/agents/signal_queries.py:observation_rows",
    "core/agents/signal_queries.py:look_rows",
    "core/agents/signal_queries.py:state_rows",
    "core/agents/signal_queries.py:state_row",
    "core/agents/signal_queries.py:limited_states",
    "core/agents/transcript_queries.py:last_row",
    "core/agents/transcript_queries.py:by_call",
    "core/agents/transcript_queries.py:last_open_tool",
    "core/agents/transcript_queries.py:after",
    "core/agents/transcript_queries.py:newest",
    "core/agents/transcript_queries.py:of_task",
    "core/agents/transcript_queries.py:latest_of_tasks_in_progress",
    "core/costs/queries.py:unpriced_turns",
    "core/costs/queries.py:sums_by",
    "core/costs/queries.py:sums_by_campaign",
    "core/costs/queries.py:sums_of_task",
    "core/costs/queries.py:sums_of_agent_day",
    "core/costs/queries.py:sums_of_campaign",
    "core/costs/queries.py:sums_of_account_day",
    "core/costs/queries.py:turns_of_task",
    "core/costs/queries.py:turns_after",
    "core/costs/queries.py:budget_of",
    "core/costs/queries.py:all_budgets",
    "core/costs/queries.py:campaign_budget_of_task",
    "core/costs/queries.py:stop_marks",
    "core/github/queries.py:rows_in_state",
    "core/github/queries.py:newest_rows",
    "core/github/queries.py:row_by_id",
    "core/github/queries.py:row_of_task",
    "core/history/audit_queries.py:audit_rows",
    "core/history/event_queries.py:watch_counts",
    "core/history/event_queries.py:newest_of_kinds",
    "core/history/event_queries.py:state_changes",
    "core/history/event_queries.py:of_task",
    "core/history/event_queries.py:newest_reviews",
    "core/history/event_queries.py:data_of_kind",
    "core/history/event_queries.py:matching",
    "core/history/event_queries.py:followup_data",
    "core/history/event_queries.py:ci_decided",
    "core/history/event_queries.py:nudges_per_agent",
    "core/history/event_queries.py:event_counts",
    "core/history/event_queries.py:notable_events",
    "core/history/retention_queries.py:old_audit",
    "core/history/retention_queries.py:old_events",
    "core/reports/queries.py:task_rows",
    "core/reports/queries.py:status_counts_where",
    "core/reports/queries.py:column_rows",
    "core/reports/queries.py:status_counts",
    "core/reports/queries.py:stalls_per_agent",
    "core/reports/queries.py:usage_per_model",
    "core/reports/queries.py:done_spans",
    "core/reports/queries.py:stalls_between",
    "core/reports/queries.py:done_averages",
    "core/reports/queries.py:blocked_rows",
    "core/reports/queries.py:quiet_rows",
    "core/reports/queries.py:tasks_after",
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
