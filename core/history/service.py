"""The event log and the audit rows as the front ends ask for them (``service.history``):
events after a cursor, a filtered search, the newest events, who ran what."""

from __future__ import annotations

from core.context import Ctx
from core.event_kinds import EventKind
from core.history import audit_queries, event_queries
from core.history import events as event_query
from core.models import Event, parse_task_ref
from core.store import tables
from core.store.access import StoreAccess
from core.store.conn import Conn


class HistoryBook:
    """Read events and audit rows; record who ran what (``service.history``)."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def events(
        self, after_id: int = 0, limit: int = 100, task: str | int | None = None
    ) -> list[Event]:
        """Events after ``after_id``, oldest first (optionally of one task)."""
        task_id = parse_task_ref(task) if task is not None else None
        return await self.access.read(event_queries.events_after, after_id, limit, task_id)

    async def find(
        self,
        flt: event_query.EventFilter,
        after_id: int = 0,
        limit: int = 100,
        newest: bool = False,
    ) -> list[Event]:
        """Events matching ``flt`` after ``after_id``, oldest first (``newest``: the last
        ``limit`` of them)."""
        return await self.access.read(event_query.find_events, flt, after_id, limit, newest)

    async def count(self, flt: event_query.EventFilter) -> int:
        """How many events match ``flt``."""
        return await self.access.read(event_query.count_events, flt)

    async def last(self, limit: int = 20) -> list[Event]:
        """The newest events, oldest first."""
        return await self.access.read(event_queries.last_events, limit)

    async def audit(
        self, user_id: int | str, user_name: str, command: str, allowed: bool, outcome: str = ""
    ) -> None:
        """Record who ran what, allowed or refused."""
        await self.access.update(
            audit_queries.insert_audit,
            self.access.clock.now(),
            str(user_id),
            user_name,
            command,
            allowed,
            outcome,
        )

    async def refused(
        self, actor: str, agent: str | None, command: str, why: str, user: str
    ) -> None:
        """Record a person's decision refused to an agent's terminal (``bot/cli/trust.py``):
        an ``access.refused`` event and an audit row (``user``: the OS user), together."""
        await self.access.write(actor, _refused, agent, command, why, user)

    async def audit_rows(self, limit: int = 100) -> list[audit_queries.AuditRow]:
        """The newest audit rows, newest first."""
        return await self.access.read(audit_queries.audit_rows, limit)


def _refused(conn: Conn, ctx: Ctx, agent: str | None, command: str, why: str, user: str) -> None:
    tables.insert_event(
        conn,
        ctx.now,
        EventKind.ACCESS_REFUSED,
        f"{command} refused ({ctx.actor}, {user}): {why}",
        agent=agent,
        actor=ctx.actor,
        data={"command": command, "why": why, "user": user},
    )
    audit_queries.insert_audit(conn, ctx.now, user, ctx.actor, command, False, f"refused: {why}")
