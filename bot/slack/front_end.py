"""Slack as the notifier's front end (``core.coordinator.front_end.FrontEnd``): each item a
message of the configured channel (``chat.postMessage`` with its blocks), a task's card
edited in place (``chat.update``), its lines in the card's thread (Slack's thread is the
card's ``ts``), alerts in the same channel. The notifier in core decides what is posted
when; this module only renders and sends.

A 429 is waited for by slack_sdk's rate-limit handler (``Retry-After``; the request was not
taken, so nothing is doubled); past its retries it fails for now and the notifier tries
again from its saved cursor (nothing dropped).
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.render import rendered
from core.coordinator.front_end import Failure, Item
from core.formats.text import one_line, shorten
from core.models import Event, Task
from core.posts.queries import Post

FRONT_END = "slack"  # its posts' rows, its notifier loops' cursors (``slack:urgent``)
TEXT_LIMIT = 2900  # a summary's pieces: one section each (3,000 with the escapes' room)
GONE = frozenset({"message_not_found", "thread_not_found"})
# Slack's own trouble, and the app refused as a whole (a revoked token, the app taken out of
# the channel): no post would pass, so none is skipped; they wait, counted in ``swarm
# status``, and go out in order once a person puts it right
FOR_NOW = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "missing_scope",
    }
)


class SlackFrontEnd:
    """The notifier's posts as messages in one Slack channel."""

    name = FRONT_END
    text_limit = TEXT_LIMIT

    def __init__(self, client: AsyncWebClient, channel_id: str) -> None:
        self.client = client
        self.channel_id = channel_id

    def shown(self, item: Item) -> str:
        """What ``item``'s message shows: its text and blocks."""
        return rendered(item).shown

    async def send(self, item: Item, thread: str | None = None) -> str:
        """Post ``item`` in the channel (``thread``: in the thread of that card); its ``ts``."""
        message = rendered(item)
        answer = await self.client.chat_postMessage(
            channel=self.channel_id,
            text=message.text,
            blocks=message.blocks,
            thread_ts=thread,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(answer["ts"])

    async def edit(self, post: Post, item: Item) -> None:
        """Show ``item`` in the message of ``post``."""
        message = rendered(item)
        await self.client.chat_update(
            channel=self.channel_id, ts=post.message_id, text=message.text, blocks=message.blocks
        )

    async def open_thread(self, post: Post, task: Task) -> str:
        """A Slack thread is its first message's: the card's ``ts``, nothing to create."""
        return post.message_id

    def failure(self, exc: BaseException) -> Failure | None:
        """How a request to Slack failed (``slack_failure``)."""
        return slack_failure(exc)

    def describe(self, exc: BaseException) -> str:
        """``429 ratelimited``, ``200 message_not_found``, ``ClientConnectorError: ...``."""
        return describe(exc)

    async def seen(self, events: Sequence[Event]) -> None:
        """Nothing follows a batch here (no campaign messages on Slack yet)."""


def slack_failure(exc: BaseException) -> Failure | None:
    """A deleted message or thread: gone; 429, a 5xx, Slack's own trouble, the app refused
    as a whole (``FOR_NOW``), a lost connection: for now; any other error Slack answers
    (blocks or a text it refuses, a message it cannot update): refused. None when ``exc``
    is not Slack's."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error", ""))
        if exc.response.status_code == 429 or exc.response.status_code >= 500:
            return Failure.transient
        if error in GONE:
            return Failure.gone
        return Failure.transient if error in FOR_NOW else Failure.refused
    if isinstance(exc, (SlackClientError, aiohttp.ClientError)):
        return Failure.transient
    return None


def describe(exc: BaseException) -> str:
    """One line for ``exc`` (at most 200 characters)."""
    if isinstance(exc, SlackApiError):
        found = f"{exc.response.status_code} {exc.response.get('error', '')}"
    else:
        found = f"{type(exc).__name__}: {exc}"
    return shorten(one_line(found), 200)
