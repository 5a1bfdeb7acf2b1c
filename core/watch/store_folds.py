"""The sandboxed agents' git stores folded while swarm runs (a timer of its loop, or of a
node's for its agents): every ``FOLD_EVERY_S`` each repository a sandboxed agent works in has
its worktrees' stores folded into its own (``core.sandbox.object_stores``: each object
checked against its name, a forgery removed, recorded and logged). Swarm's own git folds
first anyway; this bounds how long the person's own git (a ``git log`` in a terminal) can
read what an agent wrote before it was checked.

What was refused of an agent's store, by any fold (this timer's, swarm's git in any
process, a sandbox's start: the repository's ``refused.log``), is a ``git-refused`` alert
of that agent ("Needs you": Discord's alerts channel, the dashboard), its words kept to the
count and the newest refusal; it clears once the person removed that file."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from core.agents import GIT_REFUSED, clear_alert, open_alert, say_open
from core.context import Ctx
from core.costs.usage_place import workspace_of
from core.protocols import PeriodicTimer
from core.sandbox import object_stores
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.workspaces import safe_env

FOLD_EVERY_S = 5.0
ACTOR = "swarm:store-folds"
Said = dict[str, tuple[int, str]]  # agent -> (its store's refusals on record, the newest)


class StoreFolds(PeriodicTimer):
    """A timer: the stores of the repositories of ``node``'s sandboxed agents (the
    coordinator's: None) folded; how many objects and packs moved."""

    def __init__(
        self, service: SwarmService, node: str | None = None, every_s: float = FOLD_EVERY_S
    ) -> None:
        super().__init__(service.clock, every_s)
        self.service = service
        self.node = node
        self._said: Said | None = None  # what the alerts say now (None: not written yet)

    async def run(self) -> int:
        """Fold each repository's stores (in a thread: git and the files), then say each
        agent's refusals on record as its alert when they changed."""
        moved, said = await asyncio.to_thread(self._fold)
        if said != self._said:
            await self.service.store.write(ACTOR, _say, said)
            self._said = said
        return moved

    def _fold(self) -> tuple[int, Said]:
        moved, said = 0, Said()
        for common, stores in sorted(self._repositories().items(), key=lambda item: str(item[0])):
            done = object_stores.fold_or_say(common, safe_env())  # (one that cannot: said)
            moved += done.objects + done.packs if done is not None else 0
            said |= _refused_of(object_stores.refusals(common), stores)
        return moved, said

    def _repositories(self) -> dict[Path, dict[str, str]]:
        """The common git folders of the repositories this loop's sandboxed agents work in
        that have worktrees' stores, each with its stores' names and their agents."""
        home = self.service.settings.home
        found: dict[Path, dict[str, str]] = {}
        for agent in self.service.agents.values():
            if agent.sandbox is None or agent.node != self.node:
                continue
            where = workspace_of(agent, home)
            at = object_stores.stores_of_folder(Path(where)) if where else None
            if at is None:
                continue
            common, store = at
            stores = found.setdefault(common, {})
            if store is not None:
                stores[store] = agent.id
        return found


def _refused_of(lines: list[str], stores: Mapping[str, str]) -> Said:
    """Each agent of ``stores`` (a store's name -> its agent): how many of the dated
    refusal ``lines`` name its store, and the newest of them."""
    said: Said = {agent: (0, "") for agent in stores.values()}
    for line in lines:
        store, marked, _ = line.split(" ", 2)[-1].partition("'s git store:")
        agent = stores.get(store) if marked else None
        if agent is not None:
            said[agent] = (said[agent][0] + 1, line)
    return said


def _say(conn: Conn, ctx: Ctx, said: Said) -> int:
    """Each agent's ``git-refused`` alert opened, its words brought up to date, or cleared."""
    changed = 0
    for agent, (count, newest) in sorted(said.items()):
        if count == 0:
            changed += clear_alert(conn, ctx, agent, GIT_REFUSED, f"{agent}: {CLEARED}")
            continue
        text = (
            f"{agent}: swarm refused what its git store held ({count} on record: content "
            f"under a name it is not, removed, never read); the newest: {newest}. "
            f"`swarm doctor` says each; remove {object_stores.REFUSED} in the repository's "
            "git folder once seen"
        )
        changed += open_alert(conn, ctx, agent, GIT_REFUSED, text) or say_open(
            conn, agent, GIT_REFUSED, text
        )
    return changed


CLEARED = "the refusals of its git store were read and removed"
