"""Tasks, events, the agents' turns (the cost ledger) and the budgets as CSV or JSON,
streamed page by page (big tables never sit in memory).

``chunks`` yields text pieces for a file or stdout; ``export_bytes`` joins them for a
Discord attachment. CSV cells hold lists and objects as JSON and nothing for None; the JSON
form is one array of the same objects that ``--json`` prints (times as ISO-8601 UTC in both).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.costs import budgets, ledger
from core.errors import InvalidInput
from core.formats.jsonshape import shaped
from core.history.event_queries import events_after
from core.models import Event
from core.reports import queries
from core.store.conn import Conn

if TYPE_CHECKING:
    from core.store.access import StoreAccess

WHATS = ("tasks", "events", "turns", "budgets")
FORMATS = ("csv", "json")
PAGE = 1000
TASK_FIELDS = (
    "id",
    "title",
    "details",
    "status",
    "priority",
    "role",
    "capabilities",
    "pinned",
    "agent",
    "after",
    "attempts",
    "max_attempts",
    "reason",
    "blocked_on",
    "note",
    "created_by",
    "created_at",
    "updated_at",
    "assigned_at",
    "started_at",
    "finished_at",
    "lease_expires_at",
    "plan_id",
)
EVENT_FIELDS = ("id", "ts", "kind", "text", "task", "agent", "actor", "data")
TURN_FIELDS = (
    "id",
    "recorded_at",
    "day",
    "ref",
    "task",
    "agent",
    "account",
    "cli",
    "model",
    "source",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "cost_from",
)
BUDGET_FIELDS = ("scope", "subject", "dollars", "set_at", "set_by")
FIELDS = {"tasks": TASK_FIELDS, "events": EVENT_FIELDS, "turns": TURN_FIELDS,
          "budgets": BUDGET_FIELDS}  # fmt: skip


def check(what: str, fmt: str) -> None:
    """InvalidInput for an unknown table or format."""
    if what not in WHATS:
        raise InvalidInput(f"cannot export {what!r}: choose {', '.join(WHATS)}")
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: choose {' or '.join(FORMATS)}")


def tasks_page(conn: Conn, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Tasks with an id above ``after_id``, in id order, as ``--json`` objects."""
    return [
        task.to_json() | {"_id": task.id} for task in queries.tasks_after(conn, after_id, limit)
    ]


def events_page(conn: Conn, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Events with an id above ``after_id``, oldest first, as ``--json`` objects."""
    return [_event(e) for e in events_after(conn, after_id, limit)]


def _event(event: Event) -> dict[str, Any]:
    return event.to_json() | {"_id": event.id}


def turns_page(conn: Conn, after_id: int, limit: int) -> list[dict[str, Any]]:
    """The cost ledger's turns with an id above ``after_id``, in id order."""
    return [turn | {"_id": turn["id"]} for turn in ledger.turns_after(conn, after_id, limit)]


def budgets_page(conn: Conn, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Every task's and campaign's budget, in one page (one row per budgeted task or
    campaign: few); none after it."""
    del limit
    if after_id:
        return []
    return [budget | {"_id": 1} for budget in budgets.all_set(conn)]


PAGES = {"tasks": tasks_page, "events": events_page, "turns": turns_page,
         "budgets": budgets_page}  # fmt: skip


async def pages(
    service: StoreAccess, what: str, page: int = PAGE
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of ``what`` as objects, ``page`` rows per read transaction, in id order."""
    reader = PAGES[what]
    after = 0
    while rows := await service.read(reader, after, page):
        after = rows[-1].pop("_id")
        for row in rows:
            row.pop("_id", None)
        yield rows


async def chunks(
    service: StoreAccess, what: str = "tasks", fmt: str = "csv", page: int = PAGE
) -> AsyncIterator[str]:
    """The export as text pieces: a header, one piece per page of rows, a footer."""
    check(what, fmt)
    fields = FIELDS[what]
    yield _csv_row(fields) if fmt == "csv" else "["
    first = True
    async for rows in pages(service, what, page):
        if fmt == "csv":
            yield "".join(_csv_row([_cell(shaped(r).get(f)) for f in fields]) for r in rows)
        else:
            yield ("\n" if first else ",\n") + ",\n".join(
                json.dumps(shaped(r), ensure_ascii=False) for r in rows
            )
        first = False
    if fmt == "json":
        yield "\n]\n"


def _csv_row(cells: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


async def export_bytes(service: StoreAccess, what: str = "tasks", fmt: str = "csv") -> bytes:
    """The whole export in memory (a Discord attachment), UTF-8."""
    return "".join([piece async for piece in chunks(service, what, fmt)]).encode("utf-8")


def filename(what: str, fmt: str, now: float) -> str:
    """``swarm-tasks-20261121-1200.csv``."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M")
    return f"swarm-{what}-{stamp}.{fmt}"
