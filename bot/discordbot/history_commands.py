"""/events and /alerts: what happened and what is wrong, from Discord."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.discordbot.render import code_block_chunks, table
from core.formats.text import one_line, shorten
from core.formats.timetext import local_text
from core.history.events import EventFilter
from core.models import parse_task_ref
from core.schedules.timing import parse_every

if TYPE_CHECKING:
    from bot.discordbot.context import Bot, SlashCommand
    from core.agents import Alert


def _when(ts: float) -> str:
    return local_text(ts, "%m-%d %H:%M")


def register(bot: Bot) -> None:
    """Add /events and /alerts."""
    for command in HistoryCommands(bot).commands():
        bot.tree.add_command(command)


class HistoryCommands:
    """/events and /alerts, built by :meth:`commands` from methods bound to this object."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def commands(self) -> list[SlashCommand]:
        """The commands, in the order Discord lists them."""
        return [
            app_commands.Command(
                name="events",
                description="Recent events, filtered (only you see them)",
                callback=self.events,
            ),
            app_commands.Command(
                name="alerts",
                description="Open alerts (all: cleared ones too)",
                callback=self.alerts,
            ),
        ]

    @app_commands.describe(
        kind="a kind (task.done) or family (task)",
        task="one task, e.g. T-3",
        grep="text the event contains",
        since="how far back: 30m, 2h, 1d",
        limit="how many (default 20, at most 100)",
    )
    async def events(
        self,
        interaction: discord.Interaction,
        kind: str | None = None,
        task: str | None = None,
        grep: str | None = None,
        since: str | None = None,
        limit: app_commands.Range[int, 1, 100] = 20,
    ) -> None:
        """/events: the newest events that match, only to the person who asked."""
        service = self.bot.service
        flt = EventFilter(
            since=service.clock.now() - parse_every(since) if since else None,
            kinds=(kind,) if kind else (),
            grep=grep or "",
            task_id=parse_task_ref(task) if task else None,
        )
        found = await service.history.find(flt, limit=limit, newest=True)
        text = (
            "\n".join(
                one_line(f"{_when(e.ts)}  {e.kind:<16} {shorten(e.text, 120)}") for e in found
            )
            or "no matching events"
        )
        chunks = code_block_chunks(text)
        await interaction.response.send_message(chunks[0], ephemeral=True)
        for chunk in chunks[1:]:
            await interaction.followup.send(chunk, ephemeral=True)

    async def alerts(self, interaction: discord.Interaction, all: bool = False) -> None:
        """/alerts: the open ones, or (all) the cleared ones too."""

        found = await self.bot.service.signals.alerts(all, 50)
        text = _alerts_table(found) if found else ("no alerts" if all else "no open alerts")
        await interaction.response.send_message(code_block_chunks(text)[0])


def _alerts_table(found: list[Alert]) -> str:
    return table(
        ("AGENT", "KIND", "OPENED", "CLEARED", "TEXT"),
        [
            (
                a.agent,
                a.kind,
                _when(a.opened_at),
                _when(a.cleared_at) if a.cleared_at else "-",
                shorten(a.text, 60),
            )
            for a in found
        ],
    )
