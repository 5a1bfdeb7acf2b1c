"""What the buttons, the thread replies and ``/swarm`` share: the service, the settings, the
Web API client, and a line only one person sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import text as mrkdwn
from bot.slack.access import REFUSAL, Person, may_decide
from bot.slack.settings import SlackSettings
from core.service.swarm import SwarmService

Json = dict[str, Any]


@dataclass(frozen=True)
class Slack:
    """The app as its listeners see it."""

    service: SwarmService
    settings: SlackSettings
    client: AsyncWebClient

    @property
    def channel_id(self) -> str:
        """The one channel swarm posts in and listens to."""
        return self.settings.channel_id or ""

    async def may_decide(self, person: Person, what: str) -> bool:
        """True for an admin; else False, recorded, and the person told in one line."""
        if await may_decide(self.service, self.settings, person, what):
            return True
        await self.tell(person, REFUSAL)
        return False

    async def show(self, person: Person, text: str, blocks: list[Json]) -> None:
        """``blocks`` (``text`` their fallback) to ``person`` alone, in the channel."""
        await self.client.chat_postEphemeral(
            channel=self.channel_id, user=person.id, text=text, blocks=blocks
        )

    async def tell(self, person: Person, line: str) -> None:
        """``line`` (plain: escaped here) to ``person`` alone, in the channel."""
        await self.client.chat_postEphemeral(
            channel=self.channel_id, user=person.id, text=mrkdwn.line(line)
        )
