"""File reservations as the front ends (CLI, MCP tools, Discord, dashboard) ask for them:
``service.reservations``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from core.errors import InvalidState, ReservationHeld
from core.reservations import _approval as approval
from core.reservations import _queries as reservations
from core.reservations import _queries as rows
from core.reservations import _reserving as reserving
from core.reservations._queries import Reservation
from core.reservations._reserving import Conflict
from core.store.access import StoreAccess

log = logging.getLogger(__name__)


class ReservationBook:
    """Reserve, release and look up file reservations (``service.reservations``)."""

    def __init__(
        self,
        access: StoreAccess,
        tree: Callable[[str], Awaitable[Sequence[str] | None]] | None = None,
        hold: approval.Hold | None = None,
    ) -> None:
        self.access = access
        self.tree = tree  # the files of the agent's repository (None: not known)
        self.hold = hold  # holds an item for a person (core.tasks._held.hold)

    async def reserve(
        self,
        agent: str,
        patterns: Sequence[str],
        *,
        exclusive: bool = True,
        ttl_s: float | None = None,
    ) -> list[Reservation]:
        """Reserve paths or globs for ``agent`` (for its current task, or ``ttl_s`` seconds,
        whichever ends first), all or nothing; ReservationConflict names the holder, their
        pattern and task when one overlaps another agent's reservation.

        The overlaps are decided before the write transaction, against the live
        reservations as read, in a worker thread (neither the event loop nor the store's
        connection waits for them); the transaction re-checks only what changed since, and a
        change too large to re-check there is checked again outside it.

        An exclusive one that is too wide, or has no task and no TTL
        (:mod:`core.reservations._approval`), is held for a person's approval instead:
        ReservationHeld names the item; nothing is reserved until a person approves."""
        who = self.access.resolve_agent(agent).id
        wanted = reserving.patterns_of(patterns)
        reserving.check_ttl(ttl_s)
        for _ in range(reserving.TRIES):
            now = self.access.clock.now()
            others = await self.access.read(reserving.others_live, now, who)
            await asyncio.to_thread(reserving.check, wanted, exclusive, others)
            if exclusive and self.hold is not None:
                await self._approval_needed(agent, who, wanted, ttl_s)
            try:
                return await self.access.write(
                    agent, reserving.reserve, who, wanted, exclusive, ttl_s, others
                )
            except reserving.Stale as stale:
                log.info("reserve for %s checked again: %s", who, stale)
        raise InvalidState(
            f"other agents' reservations kept changing while {who}'s were checked "
            f"({reserving.TRIES} tries): nothing reserved; try again"
        )

    async def _approval_needed(
        self, actor: str, who: str, wanted: Sequence[str], ttl_s: float | None
    ) -> None:
        """ReservationHeld (with the item held, once) when a person must approve this."""
        task_id = await self.access.read(rows.current_task, who)
        files = await self.tree(who) if self.tree is not None else None
        limit = self.access.settings.reserve_share
        why = await asyncio.to_thread(approval.reason, wanted, ttl_s, task_id, files, limit)
        if why is None:
            return
        assert self.hold is not None
        held = await self.access.write(actor, approval.ask, self.hold, who, wanted, ttl_s, why)
        item = f"H-{held}" if held is not None else "already asked (swarm inbox)"
        raise ReservationHeld(
            f"{', '.join(wanted)} (exclusive) waits for a person's approval: {why}; "
            f"held as {item}, nothing reserved until then (reserve narrower paths, for your "
            "task, to go on now)"
        )

    async def release(self, agent: str, patterns: Sequence[str] | None = None) -> int:
        """Release ``agent``'s reservations of ``patterns`` (None: all); how many."""
        chosen = list(patterns) if patterns is not None else None
        return await self.access.write(agent, reserving.release, agent, chosen)

    async def conflicts(
        self, paths_or_patterns: Sequence[str], *, agent: str | None = None
    ) -> list[Conflict]:
        """The live reservations each path or pattern touches (not ``agent``'s own)."""
        who = self.access.resolve_agent(agent).id if agent else None
        given = list(paths_or_patterns)
        reserving.patterns_of(given)  # a bad one is refused before any read
        found = await self.access.read(reserving.held, self.access.clock.now())
        return await asyncio.to_thread(reserving.conflicts, given, found, who)

    async def held(self, agent: str | None = None) -> list[Reservation]:
        """Live reservations of ``agent`` (None: everyone's), by agent then age."""
        who = self.access.resolve_agent(agent).id if agent else None
        return await self.access.read(reserving.held, self.access.clock.now(), who)

    async def files_touching(self, files: Sequence[str], agent: str | None) -> list[Conflict]:
        """Other agents' live exclusive reservations that changed ``files`` fall under
        (what a commit or a merge by ``agent`` must not touch)."""
        now = self.access.clock.now()
        return await self.access.read(reserving.files_touching, now, list(files), agent)

    async def of_task(self, task_id: int) -> list[Reservation]:
        """The live reservations taken for one task (its page)."""

        return await self.access.read(reservations.of_task, self.access.clock.now(), task_id)
