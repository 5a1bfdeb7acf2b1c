"""What came from outside swarm and is held for a person before it can reach an agent: a
review of swarm's pull request by someone without write access, an issue an outsider edited
after a writer labelled it (``bot/github``). Rows of ``held_items``.

An item is held once per ``key`` (a second ``hold`` of the same thing is a no-op), shown in
the needs-you queue as ``H-3``, and decided once by a person: accepted (the front end that
held it applies it at its next tick: the follow-up task is made, the issue imported, and the
item records what was done) or rejected (nothing reaches an agent). Each step is an event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.context import Ctx
from core.errors import InvalidState, NotFound
from core.event_kinds import EventKind
from core.store.conn import Conn
from core.store.tables import insert_event

ACCEPTED, REJECTED = "accepted", "rejected"
COLUMNS = (
    "id, source, kind, held_key, text, task_id, agent_id, data, opened_at, decision, "
    "decided_by, decided_at, applied_at, result"
)


@dataclass(frozen=True)
class Held:
    """One held item. ``data`` is what accepting it applies (kept as it was when held);
    ``data["on_accept"]`` / ``data["on_reject"]`` say in one line what each answer does."""

    id: int
    source: str
    kind: str
    key: str
    text: str
    task_id: int | None
    agent: str | None
    data: dict[str, Any] = field(default_factory=dict)
    opened_at: float = 0.0
    decision: str | None = None
    decided_by: str | None = None
    decided_at: float | None = None
    applied_at: float | None = None
    result: str | None = None

    @property
    def ref(self) -> str:
        """``H-3``."""
        return held_ref(self.id)


def held_ref(held_id: int) -> str:
    """``H-3``: an item held for a person."""
    return f"H-{held_id}"


def _row(row: Any) -> Held:
    return Held(
        id=int(row["id"]),
        source=row["source"],
        kind=row["kind"],
        key=row["held_key"],
        text=row["text"],
        task_id=row["task_id"],
        agent=row["agent_id"],
        data=json.loads(row["data"] or "{}"),
        opened_at=float(row["opened_at"]),
        decision=row["decision"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        applied_at=row["applied_at"],
        result=row["result"],
    )


def hold(
    conn: Conn,
    ctx: Ctx,
    source: str,
    kind: str,
    key: str,
    text: str,
    data: dict[str, Any],
    task_id: int | None = None,
    agent: str | None = None,
) -> int | None:
    """Hold ``key`` for a person; its id, or None when it was held before (decided or not)."""
    row = conn.execute(
        "INSERT INTO held_items (source, kind, held_key, text, task_id, agent_id, data, "
        "opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (held_key) DO NOTHING RETURNING id",
        (source, kind, key, text, task_id, agent, json.dumps(data), ctx.now),
    ).fetchone()
    if row is None:
        return None
    held_id = int(row["id"])
    insert_event(
        conn,
        ctx.now,
        EventKind.HELD_OPENED,
        f"{held_ref(held_id)} held for a person: {text.splitlines()[0] if text else kind}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={"held": held_id, "source": source, "kind": kind},
    )
    return held_id


def get(conn: Conn, held_id: int) -> Held:
    """One item; NotFound naming it otherwise."""
    row = conn.execute(f"SELECT {COLUMNS} FROM held_items WHERE id = $1", (held_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown item {held_ref(held_id)}")
    return _row(row)


def by_key(conn: Conn, key: str) -> Held | None:
    """The item held for ``key``, if one was."""
    row = conn.execute(f"SELECT {COLUMNS} FROM held_items WHERE held_key = $1", (key,)).fetchone()
    return _row(row) if row is not None else None


def waiting(conn: Conn) -> list[Held]:
    """The items no person has decided yet, oldest first."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM held_items WHERE decision IS NULL ORDER BY id"
    ).fetchall()
    return [_row(r) for r in rows]


def accepted(conn: Conn, source: str) -> list[Held]:
    """``source``'s accepted items not applied yet, oldest first."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM held_items WHERE decision = $1 AND applied_at IS NULL "
        "AND source = $2 ORDER BY id",
        (ACCEPTED, source),
    ).fetchall()
    return [_row(r) for r in rows]


def decide(conn: Conn, ctx: Ctx, held_id: int, accept: bool) -> Held:
    """Accept or reject an item as ``ctx.actor``, once (a second answer is refused, naming
    who decided)."""
    item = get(conn, held_id)
    decision = ACCEPTED if accept else REJECTED
    taken = conn.execute(
        "UPDATE held_items SET decision = $1, decided_by = $2, decided_at = $3 "
        "WHERE id = $4 AND decision IS NULL",
        (decision, ctx.actor, ctx.now, held_id),
    ).rowcount
    if taken != 1:
        done = get(conn, held_id)
        raise InvalidState(f"{item.ref} was already {done.decision} by {done.decided_by}")
    what = str(item.data.get("on_accept" if accept else "on_reject") or "")
    insert_event(
        conn,
        ctx.now,
        EventKind.HELD_ACCEPTED if accept else EventKind.HELD_REJECTED,
        f"{item.ref} {decision} by {ctx.actor}" + (f": {what}" if what else ""),
        task_id=item.task_id,
        agent=item.agent,
        actor=ctx.actor,
        data={"held": held_id, "source": item.source, "kind": item.kind},
    )
    return get(conn, held_id)


def applied(conn: Conn, ctx: Ctx, held_id: int, result: str, task_id: int | None = None) -> None:
    """An accepted item was applied: ``result`` says what was done (one line)."""
    conn.execute(
        "UPDATE held_items SET applied_at = $1, result = $2 WHERE id = $3",
        (ctx.now, result, held_id),
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.HELD_APPLIED,
        f"{held_ref(held_id)}: {result}",
        task_id=task_id,
        actor=ctx.actor,
        data={"held": held_id},
    )
