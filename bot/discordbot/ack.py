"""How long Discord interactions wait for their acknowledgement (for ``/metrics``).

A command acknowledges its interaction itself (a reply, a defer, an edit), from many places;
discord.py keeps no time of it. While someone observes the service (the dashboard's
metrics), each slash command gets a small task that checks every 5 ms until the response is
done and reports the time since Discord created the interaction (at most 3 s: Discord's own
limit; later is no acknowledgement at all).
"""

from __future__ import annotations

import asyncio
import time

import discord

from core.service.swarm import SwarmService
from core.waits import Background

POLL_S = 0.005
LIMIT_S = 3.0


class AckWatch:
    """Reports ``discord_ack`` seconds to the service's observers."""

    def __init__(self, service: SwarmService) -> None:
        self.service = service
        self._pending = Background("Discord's acknowledgements")

    def watch(self, interaction: discord.Interaction) -> None:
        """Time this interaction's acknowledgement (only while someone observes)."""
        if not self.service.observers:
            return
        self._pending.start(self._wait(interaction), name="discord-ack")

    async def _wait(self, interaction: discord.Interaction) -> None:
        created = interaction.created_at.timestamp()
        while not interaction.response.is_done():
            if time.time() - created > LIMIT_S:
                return
            await asyncio.sleep(POLL_S)
        self.service.observe("discord_ack", max(0.0, time.time() - created))

    def close(self) -> None:
        """Stop waiting (the client is closing)."""
        self._pending.cancel()
