"""Approve / Reject buttons on a workflow's waiting gates (in a campaign's live message and in
the post of each gate that starts waiting); persistent across restarts."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.discordbot.access import Access
from bot.discordbot.context import Bot, actor
from core.errors import SwarmError
from core.formats.text import one_line
from core.models import task_ref

MAX_GATE_BUTTONS = 10  # two buttons each: within Discord's 25 components


class GateButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"swarm:gate:(?P<action>approve|reject):(?P<task>\d+)",
):
    """Approve or reject a gate step; the custom id carries both, so it survives restarts."""

    needed = Access.admin

    def __init__(self, action: str, task_id: int) -> None:
        style = discord.ButtonStyle.success if action == "approve" else discord.ButtonStyle.danger
        super().__init__(
            discord.ui.Button(
                label=f"{action.capitalize()} {task_ref(task_id)}",
                style=style,
                custom_id=f"swarm:gate:{action}:{task_id}",
            )
        )
        self.action = action
        self.task_id = task_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> GateButton:
        """Rebuild the button from its custom id."""
        return cls(match["action"], int(match["task"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Approve the gate (its dependents are released) or reject it (they are cancelled)."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        if not await bot.authorize(interaction, f"button gate {self.action}", self.needed):
            return
        flows = bot.service.workflows
        ref = task_ref(self.task_id)
        try:
            if self.action == "approve":
                await flows.approve(ref, actor(interaction))
                text = f"✅ {ref} approved by {interaction.user.name}"
            else:
                cancelled = await flows.reject(ref, actor(interaction))
                text = (
                    f"🛑 {ref} rejected by {interaction.user.name}; cancelled "
                    f"{', '.join(task_ref(i) for i in cancelled) or 'nothing else'}"
                )
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)
            return
        await interaction.response.send_message(one_line(text))


def gate_buttons(task_ids: list[int]) -> discord.ui.View | None:
    """Approve and Reject for each waiting gate (at most ``MAX_GATE_BUTTONS``)."""
    if not task_ids:
        return None
    view = discord.ui.View(timeout=None)
    for task_id in task_ids[:MAX_GATE_BUTTONS]:
        view.add_item(GateButton("approve", task_id))
        view.add_item(GateButton("reject", task_id))
    return view
