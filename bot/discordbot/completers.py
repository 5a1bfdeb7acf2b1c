"""What slash-command options offer: autocompletion callbacks and the configured roles as
choices. A completer reads the bot from the interaction (``interaction.client``), so one
function serves every command class, declared with ``@app_commands.autocomplete``."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discordbot.context import Bot, Choice, Completer, bot_of
from core.formats.text import shorten
from core.models import TaskStatus

OPEN = (TaskStatus.blocked, TaskStatus.ready, TaskStatus.assigned, TaskStatus.in_progress)
ACTIVE_ONLY = (TaskStatus.assigned, TaskStatus.in_progress)
RETRYABLE = (TaskStatus.failed, TaskStatus.cancelled)
LIMIT = 25  # Discord shows at most 25 choices


def role_choices(bot: Bot) -> list[Choice[str]]:
    """Every configured role, once, as slash-command choices (Discord allows 25)."""
    return [Choice(name=r, value=r) for r in bot.service.roles()][:LIMIT]


async def agents(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    """The agents whose id or role holds what was typed."""
    low = current.lower()
    return [
        Choice(name=f"{a.id} ({a.role})", value=a.id)
        for a in bot_of(interaction).service.agents.values()
        if low in a.id.lower() or low in a.role.lower()
    ][:LIMIT]


def tasks_in(statuses: Sequence[TaskStatus] | None = OPEN) -> Completer:
    """Tasks in ``statuses`` (None: any), the last of a comma-separated list completed."""

    async def complete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        *done, last = current.split(",") if current else [""]
        head = ",".join(done) + ("," if done else "")
        found = await bot_of(interaction).service.tasks.find(last.strip(), statuses, LIMIT)
        return [
            Choice(
                name=shorten(f"{head}{t.ref} {t.title} [{t.status.value}]", 100),
                value=f"{head}{t.ref}",
            )
            for t in found
        ]

    return complete


async def capabilities(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    """The agents' capabilities, the last of a comma-separated list completed."""
    known = sorted({c for a in bot_of(interaction).service.agents.values() for c in a.capabilities})
    *done, last = current.split(",") if current else [""]
    head = ",".join(p.strip() for p in done) + ("," if done else "")
    return [
        Choice(name=f"{head}{c}", value=f"{head}{c}")
        for c in known
        if c.lower().startswith(last.strip().lower())
    ][:LIMIT]
