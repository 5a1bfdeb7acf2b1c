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
from typing import Any

from core.context import Ctx
from core.errors import InvalidState, NotFound
from core.event_kinds import EventKind
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import _held_queries as held_queries
from core.tasks._held_queries import Held as Held  # the rows of held_items
from core.tasks._held_queries import held_ref as held_ref

ACCEPTED, REJECTED = "accepted", "rejected"


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
    held_id = held_queries.insert(
        conn, source, kind, key, text, task_id, agent, json.dumps(data), ctx.now
    )
    if held_id is None:
        return None
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
    found = held_queries.by_id(conn, held_id)
    if found is None:
        raise NotFound(f"unknown item {held_ref(held_id)}")
    return found


def by_key(conn: Conn, key: str) -> Held | None:
    """The item held for ``key``, if one was."""
    return held_queries.by_key(conn, key)


def waiting(conn: Conn) -> list[Held]:
    """The items no person has decided yet, oldest first."""
    return held_queries.undecided(conn)


def accepted(conn: Conn, source: str) -> list[Held]:
    """``source``'s accepted items not applied yet, oldest first."""
    return held_queries.not_applied(conn, ACCEPTED, source)


def decide(conn: Conn, ctx: Ctx, held_id: int, accept: bool) -> Held:
    """Accept or reject an item as ``ctx.actor``, once (a second answer is refused, naming
    who decided)."""
    item = get(conn, held_id)
    decision = ACCEPTED if accept else REJECTED
    if not held_queries.decide(conn, held_id, decision, ctx.actor, ctx.now):
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
    held_queries.mark_applied(conn, held_id, ctx.now, result)
    insert_event(
        conn,
        ctx.now,
        EventKind.HELD_APPLIED,
        f"{held_ref(held_id)}: {result}",
        task_id=task_id,
        actor=ctx.actor,
        data={"held": held_id},
    )
