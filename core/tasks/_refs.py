"""The newest task ids a shell's Tab offers (``swarm __complete tasks``): the store opened for
this one read, without the service (each Tab is a new process: half its imports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.store.sqlite import missing_file, open_store
from core.tasks._read_queries import list_tasks

if TYPE_CHECKING:
    from core.settings import Settings


async def newest_refs(settings: Settings, limit: int) -> list[str]:
    """The ``limit`` newest tasks' ids (``T-12``), newest first; none when the SQLite file
    does not exist (it is not created)."""
    if missing_file(settings) is not None:
        return []
    store = await open_store(settings, readers=0, reads_only=True)
    try:
        tasks = await store.read(list_tasks, None, None, limit)
    finally:
        await store.close()
    return [task.ref for task in tasks]
