"""Discord's notifier: the core's loop (``core/coordinator/notifier.py``: cursors, one post per
task or message, edits, retries, skips) driving Discord through ``DiscordFrontEnd``
(``front_end``: what each post looks like, where it goes), at the ``SWARM_NOTIFY`` level of
the bot's settings, once the bot is ready."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.discordbot.front_end import DiscordFrontEnd
from core.coordinator import notifier
from core.posts.notify import NotifyLevel
from core.service.swarm import SwarmService

if TYPE_CHECKING:
    from bot.discordbot.context import Bot


class Notifier(notifier.Notifier):
    """The notifier posting to the bot's channel."""

    def __init__(self, bot: Bot, service: SwarmService, poll_s: float = 0.5) -> None:
        self.bot = bot
        self.discord = DiscordFrontEnd(bot)
        super().__init__(service, self.discord, NotifyLevel(bot.settings.notify), poll_s)

    async def run(self) -> None:
        """Post events forever (until stopped), once the bot is ready and its channel found."""
        await self.bot.wait_until_ready()
        await self.discord.connect()
        await super().run()
