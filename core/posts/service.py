"""What the notifier keeps for each front end: its cursors over the events and the live posts
it edits."""

from __future__ import annotations

from core.models import Event
from core.posts import queries as posts
from core.store.access import StoreAccess


class PostBook:
    """Cursors and live posts (``service.posts``)."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def cursor(self, consumer: str) -> int:
        """The last event id a consumer (a notifier loop: ``discord``) has handled."""
        return await self.access.read(posts.get_cursor, consumer)

    async def set_cursor(self, consumer: str, event_id: int) -> None:
        """Remember that ``consumer`` has handled events up to ``event_id``."""
        await self.access.update(posts.set_cursor, consumer, event_id)

    async def post(self, front_end: str, key: str) -> posts.Post | None:
        """``front_end``'s live post under ``key`` (``task:3``, ``message:5``), if any."""
        return await self.access.read(posts.get_post, front_end, key)

    async def save_post(self, post: posts.Post, consumer: str, cursor: int) -> None:
        """Store a live post of ``consumer``'s front end and advance ``consumer``'s cursor in
        one transaction."""
        await self.access.update(posts.save_post, post, consumer, cursor)

    async def keep_post(self, front_end: str, post: posts.Post) -> None:
        """Store ``post`` as shown now (a button edited it): the notifier finds it up to date,
        so it does not edit it a second time. The cursor is left where it is."""
        await self.access.update(posts.keep_post, front_end, post)

    async def task_of_thread(self, front_end: str, channel_id: str) -> int | None:
        """The task whose thread (or message) on ``front_end`` has this id, if any."""
        return await self.access.read(posts.task_of_thread, front_end, channel_id)

    async def message_progress(self, message_id: int) -> posts.Progress:
        """How many of a message's deliveries were delivered or failed, of how many."""
        return await self.access.read(posts.message_progress, message_id)

    # -- the notifier's failures, per loop ---------------------------------------------------

    async def note_retry(self, consumer: str, error: str) -> None:
        """A failure ``consumer`` tries again: counted, kept as its last failure."""
        await self.access.write(consumer, posts.note_retry, consumer, error)

    async def note_reposted(self, consumer: str, key: str, event: Event, error: str) -> None:
        """The live post under ``key`` is gone: forgotten (to be posted anew), recorded."""
        await self.access.write(consumer, posts.note_reposted, consumer, key, event, error)

    async def note_skipped(self, consumer: str, event: Event, error: str) -> bool:
        """The front end refused ``event``'s post for good: skipped, recorded, alerted (True when
        the loop's alert was opened now)."""
        return await self.access.write(consumer, posts.note_skipped, consumer, event, error)

    async def posts_get_through(self, consumer: str) -> bool:
        """Clear ``consumer``'s alert, if open (True when one was cleared)."""
        return await self.access.write(consumer, posts.posts_get_through, consumer)

    async def loop_names(self) -> list[str]:
        """The notifier loops that keep a cursor here (``discord``, ``discord:urgent``)."""
        return await self.access.read(posts.loop_names)

    async def loop_health(
        self, consumer: str, kinds: tuple[str, ...] = (), fallback: int = 0
    ) -> posts.LoopHealth | None:
        """How ``consumer`` is doing (None when it never ran): see ``posts.loop_health``."""
        now = self.access.clock.now()
        return await self.access.read(posts.loop_health, consumer, kinds, now, fallback)
