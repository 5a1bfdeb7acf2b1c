"""The sandboxed agents' git stores folded while swarm runs (a timer of its loop, or of a
node's for its agents): every ``FOLD_EVERY_S`` each repository a sandboxed agent works in has
its worktrees' stores folded into its own (``core.sandbox.object_stores``: each object
checked against its name, a forgery removed, recorded and logged). Swarm's own git folds
first anyway; this bounds how long the person's own git (a ``git log`` in a terminal) can
read what an agent wrote before it was checked."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.costs.usage_place import workspace_of
from core.protocols import PeriodicTimer
from core.sandbox import object_stores
from core.service.swarm import SwarmService
from core.workspaces import safe_env

FOLD_EVERY_S = 5.0


class StoreFolds(PeriodicTimer):
    """A timer: the stores of the repositories of ``node``'s sandboxed agents (the
    coordinator's: None) folded; how many objects and packs moved."""

    def __init__(
        self, service: SwarmService, node: str | None = None, every_s: float = FOLD_EVERY_S
    ) -> None:
        super().__init__(service.clock, every_s)
        self.service = service
        self.node = node

    async def run(self) -> int:
        """Fold each repository's stores (in a thread: git and the files)."""
        return await asyncio.to_thread(self._fold)

    def _fold(self) -> int:
        moved = 0
        for common in sorted(self._repositories(), key=str):
            done = object_stores.fold_or_say(common, safe_env())  # (one that cannot: said)
            moved += done.objects + done.packs if done is not None else 0
        return moved

    def _repositories(self) -> set[Path]:
        """The common git folders of the repositories this loop's sandboxed agents work in
        that have worktrees' stores."""
        home = self.service.settings.home
        found: set[Path] = set()
        for agent in self.service.agents.values():
            if agent.sandbox is None or agent.node != self.node:
                continue
            where = workspace_of(agent, home)
            common = object_stores.common_of(Path(where)) if where else None
            if common is not None:
                found.add(common)
        return found
