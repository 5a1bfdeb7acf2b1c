"""/plan, /summary and /usage: the model-backed commands, with Approve / Discard buttons."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands

from bot.discordbot.access import Access
from bot.discordbot.context import Bot, SlashCommand, actor
from bot.discordbot.render import code_block_chunks
from core.ai import render_usage
from core.errors import SwarmError
from core.formats.text import split_text
from core.planning import parse_plan_ref, plan_ref, render_preview, render_progress

log = logging.getLogger(__name__)
PERIODS = ["12h", "1d", "7d", "30d"]


class PlanButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"swarm:plan:(?P<action>approve|discard):(?P<plan>\d+)",
):
    """Approve or discard a draft plan; the custom id carries both, so it survives restarts."""

    needed = Access.user  # everyone allowed to command the swarm may decide on a plan

    def __init__(self, action: str, plan_id: int) -> None:
        style = discord.ButtonStyle.success if action == "approve" else discord.ButtonStyle.danger
        super().__init__(
            discord.ui.Button(
                label=action.capitalize(), style=style, custom_id=f"swarm:plan:{action}:{plan_id}"
            )
        )
        self.action = action
        self.plan_id = plan_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> PlanButton:
        """Rebuild the button from its custom id."""
        return cls(match["action"], int(match["plan"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Approve (create every task at once) or discard the plan."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        if not await bot.authorize(interaction, f"button plan {self.action}", self.needed):
            return
        ref = plan_ref(self.plan_id)
        try:
            if self.action == "approve":
                ids = await bot.ai.plans.approve(ref, actor(interaction))
                text = f"✅ {ref} approved by {interaction.user.name}: {len(ids)} tasks created"
            else:
                await bot.ai.plans.discard(ref, actor(interaction))
                text = f"🗑️ {ref} discarded by {interaction.user.name}"
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {exc}", ephemeral=True)
            return
        await interaction.response.edit_message(content=text, view=None)


def plan_buttons(plan_id: int) -> discord.ui.View:
    """Approve and Discard."""
    view = discord.ui.View(timeout=None)
    view.add_item(PlanButton("approve", plan_id))
    view.add_item(PlanButton("discard", plan_id))
    return view


def register(bot: Bot) -> None:
    """Add /plan new|show, /summary and /usage."""
    bot.tree.add_command(PlanGroup(bot))
    for command in AiCommands(bot).commands():
        bot.tree.add_command(command)


class AiCommands:
    """/summary and /usage, built by :meth:`commands` from methods bound to this object."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def commands(self) -> list[SlashCommand]:
        """The commands, in the order Discord lists them."""
        return [
            app_commands.Command(
                name="summary",
                description="What got done, what is stuck (AI if set)",
                callback=self.summary,
            ),
            app_commands.Command(
                name="usage", description="Model calls, tokens and cost", callback=self.usage
            ),
        ]

    @app_commands.choices(period=[app_commands.Choice(name=p, value=p) for p in PERIODS])
    async def summary(self, interaction: discord.Interaction, period: str = "1d") -> None:
        """/summary: the model's summary of the period (a plain one without a model)."""
        await interaction.response.defer(thinking=True)
        result = await self.bot.ai.summaries.summarize(period, actor(interaction))
        await _followups(interaction, split_text(result.text))

    async def usage(self, interaction: discord.Interaction) -> None:
        """/usage."""
        report = await self.bot.ai.usage()
        await _followups(interaction, code_block_chunks(render_usage(report)), first=True)


class PlanGroup(
    app_commands.Group, name="plan", description="Turn a goal into a reviewed task graph"
):
    """``/plan new|show``: a drafted plan, with Approve / Discard buttons."""

    def __init__(self, bot: Bot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="new", description="Ask the model for a plan, then review it")
    @app_commands.describe(
        goal="what should get done", context="a review or analysis whose findings become work items"
    )
    async def new(self, interaction: discord.Interaction, goal: str, context: str = "") -> None:
        await interaction.response.defer(thinking=True)
        plan = await self.bot.ai.plans.draft(goal, context, actor(interaction))
        pieces = split_text(render_preview(plan))
        for piece in pieces[:-1]:
            await interaction.followup.send(piece)
        await interaction.followup.send(pieces[-1], view=plan_buttons(plan.id))

    @app_commands.command(
        name="show", description="A plan's progress: done / total, what is blocked"
    )
    async def show(self, interaction: discord.Interaction, id: str) -> None:
        progress = await self.bot.ai.plans.progress(parse_plan_ref(id))
        await _followups(interaction, split_text(render_progress(progress)), first=True)


async def _followups(
    interaction: discord.Interaction, pieces: list[str], first: bool = False
) -> None:
    """Send the pieces: the first as the response (unless deferred), the rest as followups."""
    if first:
        await interaction.response.send_message(pieces[0])
        pieces = pieces[1:]
    for piece in pieces:
        await interaction.followup.send(piece)
