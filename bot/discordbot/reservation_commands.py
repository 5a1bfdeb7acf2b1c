"""/reservations: the live file reservations (every agent's, or one agent's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.discordbot import completers
from bot.discordbot.render import code_block_chunks, table
from core.formats.timetext import local_text

if TYPE_CHECKING:
    from bot.discordbot.context import Bot, SlashCommand
    from core.reservations import Reservation

NONE = discord.AllowedMentions.none()


def _until(r: Reservation) -> str:
    if r.expires_at is not None:
        return local_text(r.expires_at, "%H:%M")
    return "with the task" if r.task else "-"


def reservations_text(rows: list[Reservation], agent: str | None) -> str:
    """The reservations as a monospace table (or a line saying there are none)."""
    if not rows:
        return f"no file reservations{' of ' + agent if agent else ''}"
    return table(
        ("agent", "pattern", "mode", "task", "until"),
        [(r.agent, r.pattern, r.mode, r.task or "-", _until(r)) for r in rows],
    )


def register(bot: Bot) -> None:
    """Add /reservations."""
    for command in ReservationCommands(bot).commands():
        bot.tree.add_command(command)


class ReservationCommands:
    """``/reservations``, built by :meth:`commands` from a method bound to this object."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def commands(self) -> list[SlashCommand]:
        """The one command."""
        return [
            app_commands.Command(
                name="reservations",
                description="Live file reservations (only you see)",
                callback=self.reservations,
            )
        ]

    @app_commands.describe(agent="only this agent's")
    @app_commands.autocomplete(agent=completers.agents)
    async def reservations(
        self, interaction: discord.Interaction, agent: str | None = None
    ) -> None:
        """The table, only to the person who asked."""
        rows = await self.bot.service.reservations.held(agent)
        chunks = code_block_chunks(reservations_text(rows, agent))
        await interaction.response.send_message(chunks[0], ephemeral=True, allowed_mentions=NONE)
        for chunk in chunks[1:]:
            await interaction.followup.send(chunk, ephemeral=True, allowed_mentions=NONE)
