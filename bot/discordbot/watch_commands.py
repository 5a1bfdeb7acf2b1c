"""/schedule, /stats, /screenshot and /export: watching the swarm from Discord."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands

from automation.desktop.watch import screenshot_png
from bot.discordbot import completers
from bot.discordbot.access import ADMIN_ONLY
from bot.discordbot.context import Bot, SlashCommand, actor
from bot.discordbot.render import code_block_chunks
from core.errors import InvalidInput
from core.reports import export, stats
from core.schedules.recurring import ScheduleSpec, add_schedule, list_schedules, remove_schedule
from core.schedules.timing import parse_every

Choice = app_commands.Choice
PERIODS = [Choice(name=p, value=p) for p in ("1d", "7d", "30d")]
FORMATS = [Choice(name=f, value=f) for f in ("csv", "json")]
WHATS = [Choice(name=w, value=w) for w in ("tasks", "events", "turns", "budgets")]


def register(bot: Bot) -> None:
    """Add the watching commands."""
    bot.tree.add_command(ScheduleGroup(bot))
    for command in WatchCommands(bot).commands():
        bot.tree.add_command(command)


class WatchCommands:
    """/stats, /screenshot and /export, built by :meth:`commands` from methods bound to this
    object."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def commands(self) -> list[SlashCommand]:
        """The commands, in the order Discord lists them."""
        return [
            app_commands.Command(
                name="stats",
                description="Per-agent tasks done, failure rate, time to done",
                callback=self.stats_,
            ),
            app_commands.Command(
                name="screenshot",
                description="An agent's watched region (admins)",
                callback=self.screenshot,
                extras=ADMIN_ONLY,
            ),
            app_commands.Command(
                name="export",
                description="Tasks, events, turns (cost) or budgets as CSV or JSON",
                callback=self.export_,
            ),
        ]

    @app_commands.choices(period=PERIODS)
    async def stats_(self, interaction: discord.Interaction, period: str = "7d") -> None:
        """/stats: a chart and a table."""
        await interaction.response.defer(thinking=True)  # a long period can take a while
        found = await self.bot.service.reports.stats(period)
        png = await asyncio.to_thread(stats.render_png, found)
        table = code_block_chunks(stats.render_table(found))
        await interaction.followup.send(
            table[0], file=discord.File(io.BytesIO(png), filename=f"stats-{period}.png")
        )
        for chunk in table[1:]:
            await interaction.followup.send(chunk)

    @app_commands.describe(
        public="show it in the channel (default: only to you, since agent windows can show code)"
    )
    @app_commands.autocomplete(agent=completers.agents)
    async def screenshot(
        self, interaction: discord.Interaction, agent: str, public: bool = False
    ) -> None:
        """/screenshot: only to the person who asked unless ``public``."""

        found = self.bot.service.resolve_agent(agent)
        await interaction.response.defer(thinking=True, ephemeral=not public)
        png = await asyncio.to_thread(screenshot_png, found)
        await interaction.followup.send(
            f"{found.id}",
            file=discord.File(io.BytesIO(png), filename=f"{found.id}.png"),
            ephemeral=not public,
        )

    @app_commands.choices(what=WHATS, format=FORMATS)
    async def export_(
        self, interaction: discord.Interaction, what: str = "tasks", format: str = "csv"
    ) -> None:
        """/export: the file."""
        await interaction.response.defer(thinking=True)
        data = await self.bot.service.reports.export_bytes(what, format)
        name = export.filename(what, format, self.bot.service.clock.now())
        await interaction.followup.send(
            f"{what}: {len(data)} bytes", file=discord.File(io.BytesIO(data), filename=name)
        )


class ScheduleGroup(
    app_commands.Group, name="schedule", description="Recurring prompts and summaries"
):
    """``/schedule add|list|remove``."""

    def __init__(self, bot: Bot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="add", description="A prompt or a summary on a cron or an interval")
    @app_commands.describe(
        target="agent id, role:NAME, all, or summary",
        cron="e.g. 0 9 * * 1-5 (local time)",
        every="e.g. 30m, 2h, 1d",
        text="the prompt (not for a summary)",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        target: str,
        text: str = "",
        cron: str | None = None,
        every: str | None = None,
    ) -> None:
        spec = _spec(self.bot, target, text, cron, every)
        made = await add_schedule(self.bot.service, spec, actor(interaction))
        await interaction.response.send_message(f"🗓️ {made.ref}: {made.what}, {made.when}")

    @app_commands.command(name="list", description="Every schedule")
    async def list_(self, interaction: discord.Interaction) -> None:
        found = await list_schedules(self.bot.service)
        lines = [f"{s.ref}  {s.what}  {s.when}  runs {s.runs}" for s in found]
        chunks = code_block_chunks("\n".join(lines) or "no schedules")
        await interaction.response.send_message(chunks[0])
        for chunk in chunks[1:]:
            await interaction.followup.send(chunk)

    @app_commands.command(name="remove", description="Remove a schedule")
    async def remove(self, interaction: discord.Interaction, id: str) -> None:
        gone = await remove_schedule(self.bot.service, id, actor(interaction))
        await interaction.response.send_message(f"🗑️ {gone.ref} removed ({gone.what})")


def _spec(bot: Bot, target: str, text: str, cron: str | None, every: str | None) -> ScheduleSpec:
    if bool(cron) == bool(every):
        raise InvalidInput("give exactly one of cron or every")
    every_s = parse_every(every) if every else None
    if target.strip().lower() == "summary":
        return ScheduleSpec("summary", None, "", cron=cron, every_s=every_s, period="1d")
    low = target.strip()
    if low.lower() == "all":
        where = "all"
    elif low.lower().startswith("role:"):
        where = f"role:{low[5:].strip()}"
    else:
        where = f"agent:{bot.service.ctx('').agent(low).id}"
    return ScheduleSpec("prompt", where, text, cron=cron, every_s=every_s)
