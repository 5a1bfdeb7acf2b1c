"""What a failed post or edit means to the notifier, and each loop's record of its failures.

The front end says how its own requests fail (``FrontEnd.failure``): gone (deleted), refused
for good (no access, a payload it never takes) or for now (a rate limit, a server error). A
lost connection or the database fails for now too; the loop tries again with backoff. A live
post refused for good is forgotten and posted anew, once; a post refused for good is skipped,
recorded (``post.failed``) and alerted; an error of swarm's own code on one event is
skipped after ``BUG_TRIES``. Every failure is counted per loop (``service.posts``) for ``swarm
status``, ``/metrics`` and the dashboard.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from core.coordinator.front_end import Failure, FrontEnd, Item
from core.errors import StoreError
from core.models import Event
from core.posts.queries import Post
from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
BUG_TRIES = 3  # an event whose handling raises a bug this many times in a row is skipped
INFRASTRUCTURE_MODULES = frozenset({"aiohttp", "psycopg", "sqlite3", "asyncio"})


def failure(front: FrontEnd, exc: BaseException) -> Failure | None:
    """How ``exc`` failed: the front end's word on its own requests; the network and the
    database fail for now; None for an error of swarm's own code (a bug, a malformed row)."""
    said = front.failure(exc)
    if said is not None:
        return said
    if isinstance(exc, OSError | TimeoutError | StoreError):
        return Failure.transient
    if type(exc).__module__.split(".")[0] in INFRASTRUCTURE_MODULES:
        return Failure.transient
    return None


def for_good(front: FrontEnd, exc: BaseException) -> bool:
    """True when trying ``exc``'s request again cannot help."""
    return failure(front, exc) in (Failure.gone, Failure.refused)


class PostLoop:
    """One notifier loop's posts and record of its failures: the consumer of its cursor,
    whether its alert is open (unknown after a start) and whether a post got through since a
    failure."""

    def __init__(self, service: SwarmService, front: FrontEnd, consumer: str) -> None:
        self.service = service
        self.front = front
        self.consumer = consumer
        self.alerting: bool | None = None  # None: an alert may be open from before a restart
        self.through = False
        self.bug: tuple[int, int] = (0, 0)  # the event whose handling raised a bug, how often

    def for_good(self, exc: BaseException) -> bool:
        """True when trying ``exc``'s request again cannot help."""
        return for_good(self.front, exc)

    async def show(
        self,
        key: str,
        item: Item,
        event: Event,
        creates: bool,
        post: Post | None,
        note: str | None = None,
    ) -> Post | None:
        """Post ``item`` under ``key`` when it has no post yet and ``creates``, else edit
        ``post`` when what it shows changed; saved with the cursor at ``event`` (one
        transaction). The post that shows it (None: not posted)."""
        shown = self.front.shown(item)
        if post is None:
            if not creates:
                await self.service.posts.set_cursor(self.consumer, event.id)
                return None
            post = Post(key, await self.send(item), None, note, shown)
        elif shown != post.shown:
            shown_by = await self.edit_or_post(post, event, item)
            thread_id = post.thread_id if shown_by == post.message_id else None
            post = Post(key, shown_by, thread_id, note, shown)
        else:
            return post
        await self.service.posts.save_post(post, self.consumer, event.id)
        return post

    async def send(self, item: Item, thread: str | None = None) -> str:
        """Post ``item``, noting that a post got through; the new post's id."""
        sent = await self.front.send(item, thread)
        self.through = True
        return sent

    async def edit_or_post(self, post: Post, event: Event, item: Item) -> str:
        """Edit ``post`` to show ``item``; when the front end refuses that for good (deleted,
        no access), forget it and post the same anew, once. The id of the post that shows it
        now."""
        try:
            await self.front.edit(post, item)
            return post.message_id
        except Exception as exc:
            if not for_good(self.front, exc):
                raise
            await self.reposted(post.key, event, exc)
        return await self.send(item)

    async def guarded(self, event: Event, handle: Callable[[], Awaitable[bool | None]]) -> bool:
        """Handle ``event``: True when ``handle`` says so or when the front end refused its
        post for good (skipped and recorded: the cursor is past it); what fails for now is
        raised (the loop tries again). A post that got through clears the loop's alert."""
        try:
            handled = bool(await handle())
        except Exception as exc:
            if not for_good(self.front, exc) and not self._bug_again(event, exc):
                raise
            await self.skipped(event, exc)
            return True
        if self.through and self.alerting is not False:
            await self.service.posts.posts_get_through(self.consumer)
            self.alerting = False
        self.through = False
        return handled

    def _bug_again(self, event: Event, exc: BaseException) -> bool:
        """True when ``event``'s handling raised an error of swarm's own (not the network's,
        the front end's or the database's) ``BUG_TRIES`` times in a row: trying again cannot
        help, so it is skipped like a post refused for good, never holding the loop."""
        if failure(self.front, exc) is not None:
            return False
        tries = self.bug[1] + 1 if self.bug[0] == event.id else 1
        self.bug = (event.id, tries)
        if tries < BUG_TRIES:
            return False
        log.error("%s: event %d fails every time", self.consumer, event.id, exc_info=exc)
        return True

    async def skipped(self, event: Event, exc: BaseException) -> None:
        """The front end refused ``event``'s post for good: move past it, recorded, alerted."""
        said = self.front.describe(exc)
        log.warning("%s: event %d not posted: %s (skipped)", self.consumer, event.id, said)
        await self.service.posts.note_skipped(self.consumer, event, said)
        self.alerting, self.through = True, False

    async def reposted(self, key: str, event: Event, exc: BaseException) -> None:
        """The live post under ``key`` is gone: forgotten (the caller posts it anew)."""
        said = self.front.describe(exc)
        log.warning("%s: %s is gone (%s): posted anew", self.consumer, key, said)
        await self.service.posts.note_reposted(self.consumer, key, event, said)

    async def retried(self, exc: BaseException, cursor: int) -> int:
        """Record a failure the loop tries again; the cursor to go on from (the one saved,
        so what the failed step did is not done twice). Never raises: the database may be
        what failed."""
        try:
            await self.service.posts.note_retry(self.consumer, self.front.describe(exc))
            return max(cursor, await self.service.posts.cursor(self.consumer))
        except Exception as err:  # the database is down too: nothing to record it in
            log.warning("%s: the failure could not be recorded (%r)", self.consumer, err)
            return cursor
