"""What /task diff, /task merge (admins, with a confirmation button) and /agent reset do
(declared in :class:`~bot.discordbot.task_commands.TaskGroup` and
:class:`~bot.discordbot.commands.AgentGroup`), and the Merge button."""

from __future__ import annotations

import io
import re
from typing import Any

import discord

from bot.discordbot.access import Access
from bot.discordbot.context import Bot, actor
from core.errors import InvalidInput, SwarmError
from core.github_loop.merge import merge_if_pull
from core.models import task_ref

MAX_BRANCH = 60  # the button's custom id carries the target branch (Discord allows 100)


class MergeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"swarm:merge:(?P<task>\d+)(?::(?P<into>.+))?",
):
    """Confirms a merge; the custom id carries the task and the target, so it survives
    restarts."""

    needed = Access.admin

    def __init__(self, task_id: int, into: str | None) -> None:
        custom_id = f"swarm:merge:{task_id}" + (f":{into}" if into else "")
        super().__init__(
            discord.ui.Button(label="Merge", style=discord.ButtonStyle.danger, custom_id=custom_id)
        )
        self.task_id = task_id
        self.into = into

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> MergeButton:
        """Rebuild the button from its custom id."""
        return cls(int(match["task"]), match["into"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Merge, then replace the confirmation by the outcome."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        ref = task_ref(self.task_id)
        if not await bot.authorize(interaction, "button merge", self.needed, ref):
            return
        try:
            said = await _merge(bot, ref, actor(interaction), self.into)
        except SwarmError as exc:
            await interaction.response.edit_message(content=f"⚠️ {exc}", view=None)
            return
        await interaction.response.edit_message(content=f"🔀 {said}", view=None)


async def _merge(bot: Bot, ref: str, who: str, into: str | None) -> str:
    """A task with a GitHub PR is merged there, as ``swarm task merge`` does (CI green on
    its head, a review approving, no conflict); any other in its workspace."""
    if into is None:
        said = await merge_if_pull(bot.service, bot.github, ref, who)
        if said is not None:
            return said
    return await bot.service.workspaces.merge(ref, who, into)


async def send_diff(bot: Bot, interaction: discord.Interaction, ref: str) -> None:
    """``/task diff``: the diff of a task's commits, as a file."""
    found = await bot.service.tasks.get(ref)
    text = await bot.service.workspaces.diff(found.id)
    if not text:
        await interaction.response.send_message(f"{found.ref}: no changes")
        return
    await interaction.response.send_message(
        f"{found.ref}: {text.count(chr(10))} diff lines",
        file=discord.File(io.BytesIO(text.encode()), filename=f"{found.ref}.diff"),
    )


async def ask_merge(bot: Bot, interaction: discord.Interaction, ref: str, into: str | None) -> None:
    """``/task merge``: what would be merged where, with the Merge button that does it."""
    found = await bot.service.tasks.get(ref)
    if into and len(into) > MAX_BRANCH:
        raise InvalidInput(f"branch names up to {MAX_BRANCH} characters here")
    turns = [t for t in await bot.service.workspaces.turns(found.id) if t.start_sha]
    if not turns:
        raise InvalidInput(f"{found.ref} was not worked on in a workspace: nothing to merge")
    view = discord.ui.View(timeout=None)
    view.add_item(MergeButton(found.id, into))
    target = into or turns[-1].base or "?"
    await interaction.response.send_message(
        f"Merge {found.ref} ({turns[-1].branch}) into {target}?", view=view
    )


async def reset_agent(bot: Bot, interaction: discord.Interaction, agent: str) -> None:
    """``/agent reset``: clear an agent's conversation, then onboard it."""

    name = bot.service.resolve_agent(agent).id
    await bot.service.messages.reset(name, actor(interaction))
    await interaction.response.send_message(f"🧹 reset of {name} queued, then its onboarding")
