"""What the Discord notifier keeps: its cursor over the events and the live posts it edits."""

from __future__ import annotations

from core.store import posts, tables
from core.store.access import StoreAccess


class PostBook:
    """Cursors and live posts (``service.posts``)."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def cursor(self, consumer: str) -> int:
        """The last event id a consumer (e.g. the Discord notifier) has handled."""
        return await self.access.db.read(tables.get_cursor, consumer)

    async def set_cursor(self, consumer: str, event_id: int) -> None:
        """Remember that ``consumer`` has handled events up to ``event_id``."""
        await self.access.db.write(tables.set_cursor, consumer, event_id)

    async def post(self, key: str) -> posts.Post | None:
        """The live post stored under ``key`` (``task:3``, ``message:5``), if any."""
        return await self.access.db.read(posts.get_post, key)

    async def save_post(self, post: posts.Post, consumer: str, cursor: int) -> None:
        """Store a live post and advance ``consumer``'s cursor in one transaction."""
        await self.access.db.write(posts.save_post, post, consumer, cursor)

    async def task_of_thread(self, channel_id: int) -> int | None:
        """The task whose Discord thread (or message) has this id, if any."""
        return await self.access.db.read(posts.task_of_thread, channel_id)

    async def message_progress(self, message_id: int) -> posts.Progress:
        """How many of a message's deliveries were delivered or failed, of how many."""
        return await self.access.db.read(posts.message_progress, message_id)
