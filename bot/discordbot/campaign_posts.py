"""A campaign's live message and its gates' posts.

``/campaign show`` answers with the campaign's embed and makes that message the campaign's
live message (``posts`` key ``campaign:N``, with its channel, so a restart keeps editing the
same message). The notifier tells :class:`CampaignPosts` about every event; after each batch
the live messages of the campaigns touched are rendered from the campaign as it is then and
edited only when what they show changed. A gate that starts waiting gets one post with its
Approve / Reject buttons (``gate_text``, posted by the notifier's urgent loop).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.discordbot.context import FRONT_END
from bot.discordbot.embeds import campaign_embed
from bot.discordbot.gates import gate_buttons
from bot.discordbot.post_failures import for_good
from core.errors import NotFound
from core.formats.text import one_line, shorten
from core.models import Event, Task
from core.posts.queries import Post
from core.workflows.campaigns import Campaign, campaign_ref, parse_campaign_ref
from core.workflows.service import live_key

if TYPE_CHECKING:
    from bot.discordbot.context import Bot

log = logging.getLogger(__name__)


def gate_text(task: Task, campaign_id: int | None) -> str:
    """The post of a gate that waits: ``✋ T-4 waits for approval (C-1): title``."""
    where = f" ({campaign_ref(campaign_id)})" if campaign_id is not None else ""
    return shorten(one_line(f"✋ {task.ref} waits for approval{where}: {task.title}"), 1900)


def campaign_message(
    campaign: Campaign, now: float
) -> tuple[discord.Embed, discord.ui.View | None, str]:
    """The embed, the gates' buttons and the key of what they show."""
    embed = campaign_embed(campaign, now)
    view = gate_buttons([t.id for t in campaign.gates_waiting])
    ids = [getattr(item, "custom_id", "") for item in view.children] if view else []
    shown = json.dumps(embed.to_dict(), sort_keys=True) + "|" + ",".join(ids)
    return embed, view, shown


class CampaignPosts:
    """Keeps each campaign's live message up to date."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.flows = bot.service.workflows
        self.touched: set[int] = set()

    async def follow(self, campaign: Campaign, message: Any, shown: str) -> None:
        """Make ``message`` (just posted) the campaign's live message; catch up at once with
        what changed while it was being posted."""
        await self.flows.keep_live_post(
            FRONT_END,
            Post(
                live_key(campaign.id),
                str(message.id),
                shown=shown,
                channel_id=str(message.channel.id),
            ),
        )
        await self._refresh(campaign.id)

    async def seen(self, events: Sequence[Event]) -> None:
        """After a batch of the notifier: note the campaigns ``events`` change, edit their
        live messages."""
        for event in events:
            await self.note(event)
        await self.refresh()

    async def note(self, event: Event) -> None:
        """Remember the campaign ``event`` changes, when it has a live message."""
        ref = (event.data or {}).get("campaign")
        campaign_id: int | None = None
        if isinstance(ref, str) and event.kind.startswith("campaign."):
            try:
                campaign_id = parse_campaign_ref(ref)
            except NotFound:
                return
        elif event.task_id is not None:
            campaign_id = await self.flows.campaign_of_task(event.task_id, live_only=True)
        if campaign_id is not None:
            self.touched.add(campaign_id)

    async def refresh(self) -> None:
        """Edit the live messages of the campaigns touched since the last refresh."""
        for campaign_id in sorted(self.touched):
            await self._refresh(campaign_id)
            self.touched.discard(campaign_id)

    async def _refresh(self, campaign_id: int) -> None:
        post = await self.flows.live_post(FRONT_END, campaign_id)
        if post is None or post.channel_id is None:
            return
        campaign = await self.flows.campaign(campaign_id)
        embed, view, shown = campaign_message(campaign, time.time())
        if shown == post.shown:
            return
        channel = self.bot.get_partial_messageable(int(post.channel_id))
        try:
            await channel.get_partial_message(int(post.message_id)).edit(embed=embed, view=view)
        except Exception as exc:  # deleted, or no longer visible to the bot: let it be
            if not for_good(exc):
                raise
            log.info("the live message of %s is gone (%s): no longer edited", campaign.ref, exc)
            await self.flows.drop_live_post(FRONT_END, campaign_id)
            return
        await self.flows.keep_live_post(FRONT_END, replace(post, shown=shown))
