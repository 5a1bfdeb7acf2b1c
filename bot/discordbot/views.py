"""Buttons on a task's card: Done and Reassign while active, Retry once failed or cancelled
(persistent across restarts); a pressed button edits the card."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

import discord

from bot.discordbot import embeds
from bot.discordbot.access import Access
from bot.discordbot.cards import STATE_ICONS, card_actions, task_card
from bot.discordbot.context import FRONT_END, Bot
from bot.discordbot.context import actor as actor_of
from core.coordinator.notifier import task_key
from core.errors import SwarmError
from core.event_kinds import EventKind
from core.models import Task, TaskSpec, TaskStatus, task_ref
from core.posts.notify import NotifyLevel, kind_creates_card

log = logging.getLogger(__name__)
ACTIONS = {  # label, style, who may press it
    "done": ("Done", discord.ButtonStyle.success, Access.user),
    "retry": ("Retry", discord.ButtonStyle.primary, Access.user),
    "reassign": ("Reassign", discord.ButtonStyle.secondary, Access.admin),
}


class TaskButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"swarm:(?P<action>done|retry|reassign):(?P<task>\d+)",
):
    """One action on one task; the custom id carries both, so it survives restarts."""

    def __init__(self, action: str, task_id: int) -> None:
        label, style, self.needed = ACTIONS[action]
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=f"swarm:{action}:{task_id}")
        )
        self.action = action
        self.task_id = task_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> TaskButton:
        """Rebuild the button from its custom id."""
        return cls(match["action"], int(match["task"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Run the action through the same service as the slash commands."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        if not await bot.authorize(interaction, f"button {self.action}", self.needed):
            return
        ref = task_ref(self.task_id)
        actor = actor_of(interaction)
        try:
            if self.action == "done":
                await bot.service.tasks.complete(ref, actor, "marked done from Discord")
            elif self.action == "retry":
                await bot.service.tasks.retry(ref, actor)
            else:
                await bot.service.tasks.requeue(ref, actor)
        except SwarmError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        task = await bot.service.tasks.get(ref)
        post = await bot.service.posts.post(FRONT_END, task_key(task.id))
        note = post.note if post and task.status is TaskStatus.in_progress else None
        question = await bot.service.questions.open_question(task.id)
        await interaction.response.edit_message(
            content=task_card(task, note, question), view=card_view(task)
        )
        await interaction.followup.send(f"{ref} is now {task.status.value}", ephemeral=True)


def card_view(task: Task) -> discord.ui.View | None:
    """The buttons of a task's card in its state (None: no buttons)."""
    actions = card_actions(task)
    if not actions:
        return None
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(TaskButton(action, task.id))
    return view


class DetailsModal(discord.ui.Modal, title="Task details"):
    """``/task create ... details_form:True``: a multi-line field for the details."""

    details: discord.ui.TextInput[DetailsModal] = discord.ui.TextInput(
        label="Details", style=discord.TextStyle.paragraph, max_length=4000
    )

    def __init__(self, spec: TaskSpec, created_by: str) -> None:
        super().__init__(timeout=900)
        self.spec = spec
        self.created_by = created_by

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Create the task with the details typed."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        spec = dataclasses.replace(self.spec, details=self.details.value)
        try:
            task = await bot.service.tasks.create(spec, self.created_by)
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {exc}", ephemeral=True)
            return
        await reply_created(interaction, task)


async def reply_created(interaction: discord.Interaction, task: Task) -> None:
    """The answer to ``/task create``: one visible post per task. When the notifier posts
    the task's card (every level but quiet), the person gets a short acknowledgement only
    they see, naming the card's channel; at quiet (no card) the task's embed is the post."""

    bot: Bot = interaction.client  # type: ignore[assignment]
    if not kind_creates_card(EventKind.TASK_CREATED, NotifyLevel(bot.settings.notify)):
        await interaction.response.send_message(embed=embeds.task_embed(task))
        return
    where = f" in <#{bot.settings.channel_id}>" if bot.settings.channel_id else ""
    await interaction.response.send_message(
        f"{STATE_ICONS[task.status]} {task.ref} created: its card follows{where}",
        ephemeral=True,
    )
