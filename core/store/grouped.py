"""Writes of one kind that come together go in one transaction (a group commit): the first
is written at once; those that come while it is in flight are written together next, and
so on. A node's first wave of prompts (one per agent, each with its turn's record) had
queued one transaction each on the node's one write connection: the sixteenth waited for
the fifteen before it (1.2 s on a busy machine), where one transaction holds them all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from core.waits import Background

log = logging.getLogger(__name__)
T = TypeVar("T")


class Grouped(Generic[T]):
    """``write(items)`` for the items added while no write of them is in flight; an item's
    ``add`` returns once the transaction holding it committed, or raises its error (a
    group that failed is written again item by item: one bad item fails alone)."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        self._write = write
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._flushes = Background("grouped writes")

    async def add(self, item: T) -> None:
        """Write ``item`` with the others that come meanwhile."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._flushing is None or self._flushing.done():
            # the writer runs in this caller's context (an urgent store call stays urgent)
            self._flushing = self._flushes.start(self._flush(), name="grouped-write")
        await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                await self._write_group(group)
            except asyncio.CancelledError:
                for _, done in group + self._waiting:
                    done.cancel()
                raise

    async def _write_group(self, group: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await self._write([item for item, _ in group])
        except Exception as exc:
            if len(group) == 1:
                _settle(group[0][1], exc)
                return
            log.debug("a group of %d writes failed (%r): each on its own", len(group), exc)
            for item, done in group:
                try:
                    await self._write([item])
                except Exception as alone:
                    _settle(done, alone)
                else:
                    _settle(done, None)
            return
        for _, done in group:
            _settle(done, None)


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
