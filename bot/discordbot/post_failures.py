"""What a failed post or edit means to the notifier, and each loop's record of its failures.

Discord refuses for good a message, thread or channel that was deleted (404: 10008 Unknown
Message, 10003 Unknown Channel), what the bot may not see or do there (403: 50001 Missing
Access, 50013 Missing Permissions) and a payload it never takes (400, and any other 4xx but
429). Anything else (429, 5xx, a lost connection, the database) fails for now: the loop tries
again with backoff. A live message refused for good is forgotten and posted anew, once; a post
refused for good is skipped, recorded (``discord.post_failed``) and alerted; every failure is
counted per loop (``service.posts``) for ``swarm status``, ``/metrics`` and the dashboard.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord

from core.errors import StoreError
from core.formats.text import one_line, shorten
from core.models import Event
from core.posts.queries import Post
from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
BUG_TRIES = 3  # an event whose handling raises a bug this many times in a row is skipped
INFRASTRUCTURE_MODULES = frozenset({"aiohttp", "discord", "psycopg", "sqlite3", "asyncio"})


class Failure(enum.StrEnum):
    """How a request to Discord failed."""

    gone = "gone"  # 404: the message, thread or channel was deleted
    refused = "refused"  # 403, 400 and the other 4xx but 429: never accepted as it is
    transient = "transient"  # 429, 5xx, a lost connection, the database: may pass later


def classify(exc: BaseException) -> Failure:
    """Whether ``exc`` (raised by a post or an edit) fails for good, and how."""
    if isinstance(exc, discord.HTTPException) and 400 <= exc.status < 500 and exc.status != 429:
        return Failure.gone if exc.status == 404 else Failure.refused
    return Failure.transient


def infrastructure(exc: BaseException) -> bool:
    """True for what the network, Discord or the database raise (may pass later); False for
    an error of swarm's own code on one event (a bug, a malformed row: fails every time)."""
    if isinstance(exc, OSError | TimeoutError | discord.DiscordException | StoreError):
        return True
    return type(exc).__module__.split(".")[0] in INFRASTRUCTURE_MODULES


def for_good(exc: BaseException) -> bool:
    """True when trying ``exc``'s request again cannot help."""
    return classify(exc) is not Failure.transient


def describe(exc: BaseException) -> str:
    """``404 Unknown Message (10008)``, ``503 Service Unavailable``, ``400 Invalid Form Body
    (50035): In content: ...``; another failure: its type and text (one line, at most 200
    characters)."""
    if isinstance(exc, discord.HTTPException):
        head, *details = (exc.text or "").removeprefix(f"{exc.status}: ").splitlines() or [""]
        code = f" ({exc.code})" if exc.code else ""
        more = f": {'; '.join(details)}" if details else ""
        return shorten(one_line(f"{exc.status} {head}{code}{more}"), 200)
    return shorten(one_line(f"{type(exc).__name__}: {exc}"), 200)


class Loop:
    """One notifier loop's record of its failures: the consumer of its cursor, whether its
    alert is open (unknown after a start) and whether a post got through since a failure."""

    def __init__(self, service: SwarmService, consumer: str) -> None:
        self.service = service
        self.consumer = consumer
        self.alerting: bool | None = None  # None: an alert may be open from before a restart
        self.through = False
        self.bug: tuple[int, int] = (0, 0)  # the event whose handling raised a bug, how often

    async def send(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """``target.send(...)``, noting that a post got through."""
        sent = await target.send(*args, **kwargs)
        self.through = True
        return sent

    async def edit_or_post(
        self,
        channel: Any,
        post: Post,
        event: Event,
        anew: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> int:
        """Edit ``post``'s message; when Discord refuses that for good (deleted, no access),
        forget it and post the same anew, once (with ``anew``: what only a new post takes, a
        file: an edit keeps the one its message has). The id of the message that shows it
        now."""
        try:
            await channel.get_partial_message(post.message_id).edit(**fields)
            return post.message_id
        except Exception as exc:
            if not for_good(exc):
                raise
            await self.reposted(post.key, event, exc)
        return int((await self.send(channel, **fields, **(anew or {}))).id)

    async def guarded(self, event: Event, handle: Callable[[], Awaitable[bool | None]]) -> bool:
        """Handle ``event``: True when ``handle`` says so or when Discord refused its post
        for good (skipped and recorded: the cursor is past it); what fails for now is raised
        (the loop tries again). A post that got through clears the loop's alert."""
        try:
            handled = bool(await handle())
        except Exception as exc:
            if not for_good(exc) and not self._bug_again(event, exc):
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
        Discord's or the database's) ``BUG_TRIES`` times in a row: trying again cannot
        help, so it is skipped like a post refused for good, never holding the loop."""
        if infrastructure(exc):
            return False
        tries = self.bug[1] + 1 if self.bug[0] == event.id else 1
        self.bug = (event.id, tries)
        if tries < BUG_TRIES:
            return False
        log.error("%s: event %d fails every time", self.consumer, event.id, exc_info=exc)
        return True

    async def skipped(self, event: Event, exc: BaseException) -> None:
        """Discord refused ``event``'s post for good: move past it, recorded and alerted."""
        log.warning("%s: event %d not posted: %s (skipped)", self.consumer, event.id, describe(exc))
        await self.service.posts.note_skipped(self.consumer, event, describe(exc))
        self.alerting, self.through = True, False

    async def reposted(self, key: str, event: Event, exc: BaseException) -> None:
        """The live post under ``key`` is gone: forgotten (the caller posts it anew)."""
        log.warning("%s: %s is gone (%s): posted anew", self.consumer, key, describe(exc))
        await self.service.posts.note_reposted(self.consumer, key, event, describe(exc))

    async def retried(self, exc: BaseException, cursor: int) -> int:
        """Record a failure the loop tries again; the cursor to go on from (the one saved,
        so what the failed step did is not done twice). Never raises: the database may be
        what failed."""
        try:
            await self.service.posts.note_retry(self.consumer, describe(exc))
            return max(cursor, await self.service.posts.cursor(self.consumer))
        except Exception as err:  # the database is down too: nothing to record it in
            log.warning("%s: the failure could not be recorded (%r)", self.consumer, err)
            return cursor
