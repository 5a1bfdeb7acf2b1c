"""Discord as the notifier's front end (``core.coordinator.front_end.FrontEnd``): each item
rendered as a message of the configured channel (cards with their buttons, prompts with an
option per button and the whole text attached, alerts in the alerts channel pinging the
alerts role), a task's notes in a thread of its card. The notifier in core decides what is
posted when; this module only renders and sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.discordbot.campaign_posts import CampaignPosts, gate_text
from bot.discordbot.cards import Card, progress_line
from bot.discordbot.context import FRONT_END
from bot.discordbot.gates import gate_buttons
from bot.discordbot.github_posts import ci_buttons, ci_text
from bot.discordbot.inbox_commands import inbox_view
from bot.discordbot.post_failures import describe, discord_failure
from bot.discordbot.prompt_posts import option_buttons, prompt_text, whole_text
from bot.discordbot.render import MESSAGE_LIMIT
from bot.discordbot.views import card_view
from core.coordinator.front_end import (
    AlertPost,
    CiPost,
    Failure,
    GatePost,
    Item,
    Lines,
    LongText,
    MessageLine,
    PromptPost,
    TaskCard,
    ThreadLine,
)
from core.event_kinds import EventKind, event_text
from core.formats.text import one_line
from core.models import Event, Task
from core.posts.queries import Post

if TYPE_CHECKING:
    from bot.discordbot.context import Bot


def card_of(item: TaskCard) -> Card:
    """The Discord card of a task card item."""
    return Card(item.task, item.note, item.question, item.activity)


def content(item: Item) -> str:
    """The text of ``item``'s message."""
    if isinstance(item, TaskCard):
        return card_of(item).text
    if isinstance(item, ThreadLine):
        return event_text(item.event)
    if isinstance(item, Lines):
        return "\n".join(event_text(e) for e in item.events)
    if isinstance(item, LongText):
        return item.text
    if isinstance(item, MessageLine):
        return progress_line(item.headline, item.progress)
    if isinstance(item, PromptPost):
        return prompt_text(item.prompt)
    if isinstance(item, CiPost):
        return ci_text(item.data, item.task_id, item.decided)
    if isinstance(item, GatePost):
        text = gate_text(item.task, item.campaign_id)
        return text if item.decided is None else f"{text}\n{one_line(item.decided)}"
    return event_text(item.event)


def fields(item: Item, new: bool) -> dict[str, Any]:
    """``send``/``edit`` keywords for ``item`` (``new``: a new message, which alone takes a
    file; an edit keeps the one its message has)."""
    shown: dict[str, Any] = {"content": content(item)}
    if isinstance(item, TaskCard):
        shown["view"] = card_view(item.task)
    elif isinstance(item, PromptPost):
        shown["view"] = option_buttons(item.prompt) if item.prompt.open else None
        if new:
            shown |= whole_text(item.prompt)
    elif isinstance(item, CiPost):
        shown["view"] = ci_buttons(item.task_id) if item.decided is None else None
    elif isinstance(item, GatePost):
        shown["view"] = gate_buttons([item.task.id]) if item.decided is None else None
    return shown


class DiscordFrontEnd:
    """The notifier's posts as Discord messages in the bot's channel (``connect`` first)."""

    name = FRONT_END
    text_limit = MESSAGE_LIMIT

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.channel: Any = None
        self.campaigns = CampaignPosts(bot)

    async def connect(self) -> None:
        """Find the configured channel (the bot is ready)."""
        self.channel = await self._channel(self.bot.settings.channel_id)

    def shown(self, item: Item) -> str:
        """What ``item``'s message shows: its text (a card's with its buttons)."""
        return card_of(item).shown if isinstance(item, TaskCard) else content(item)

    async def send(self, item: Item, thread: str | None = None) -> str:
        """Post ``item`` in the channel (an alert: the alerts channel; ``thread``: there)."""
        if isinstance(item, AlertPost):
            return await self._alert(item)
        target = self.bot.get_partial_messageable(int(thread)) if thread else self.channel
        return str((await target.send(**fields(item, new=True))).id)

    async def edit(self, post: Post, item: Item) -> None:
        """Edit the message of ``post`` to show ``item``."""
        message = self.channel.get_partial_message(int(post.message_id))
        await message.edit(**fields(item, new=False))

    async def open_thread(self, post: Post, task: Task) -> str:
        """The thread of ``task``'s card, named after it."""
        message = self.channel.get_partial_message(int(post.message_id))
        thread = await message.create_thread(name=f"{task.ref} {task.title}"[:100])
        return str(thread.id)

    def failure(self, exc: BaseException) -> Failure | None:
        """How a request to Discord failed (``post_failures``)."""
        return discord_failure(exc)

    def describe(self, exc: BaseException) -> str:
        """``404 Unknown Message (10008)``, ``503 Service Unavailable``, ..."""
        return describe(exc)

    async def seen(self, events: Sequence[Event]) -> None:
        """The campaigns' live messages follow the events of a batch."""
        await self.campaigns.seen(events)

    async def _alert(self, item: AlertPost) -> str:
        """Alerts go to the alerts channel; an opened one carries its "Needs you" actions
        (a stalled agent's task: Hand on, Reassign, Nudge, Cancel) and pings
        ``SWARM_ALERTS_ROLE_ID`` (the only mention the bot ever allows)."""

        alerts = await self._channel(self.bot.settings.alerts_channel_id)
        text = event_text(item.event)
        if item.event.kind != EventKind.ALERT_OPENED:
            return str((await alerts.send(text)).id)
        view = inbox_view([item.need]) if item.need is not None else None
        actions = {} if view is None else {"view": view}
        role = self.bot.settings.alerts_role_id
        if role is None:
            return str((await alerts.send(text, **actions)).id)
        mention = discord.AllowedMentions(roles=[discord.Object(role)])
        sent = await alerts.send(f"<@&{role}> {text}", allowed_mentions=mention, **actions)
        return str(sent.id)

    async def _channel(self, channel_id: int | None) -> Any:
        channel_id = channel_id or self.bot.settings.channel_id or 0
        return self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
