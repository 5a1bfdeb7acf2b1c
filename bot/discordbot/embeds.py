"""Embeds for tasks, agents and the swarm status (within Discord's embed limits)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.discordbot.render import agents_text, event_text
from core.models import Event, Task, TaskStatus, task_ref
from core.text import MULTI_LINE, escape_controls, one_line, shorten

COLOURS = {
    TaskStatus.done: discord.Colour.green(),
    TaskStatus.failed: discord.Colour.red(),
    TaskStatus.blocked: discord.Colour.orange(),
    TaskStatus.cancelled: discord.Colour.dark_grey(),
}
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096


def task_embed(task: Task, history: Sequence[Event] = ()) -> discord.Embed:
    """One task: status, priority, agent, dependencies, reason, recent history."""
    details = escape_controls(task.details, MULTI_LINE)
    embed = discord.Embed(title=shorten(one_line(f"{task.ref}: {task.title}"), 256),
                          description=shorten(details, DESCRIPTION_LIMIT) or None,
                          colour=COLOURS.get(task.status, discord.Colour.blurple()))
    embed.add_field(name="status", value=task.status.value)
    embed.add_field(name="priority", value=task.priority.name)
    embed.add_field(name="agent", value=task.agent or (f"for {task.pinned}" if task.pinned
                                                       else "-"))
    embed.add_field(name="role", value=task.role or "any")
    embed.add_field(name="after", value=", ".join(task_ref(d) for d in task.after) or "-")
    embed.add_field(name="attempts", value=f"{task.attempts}/{task.max_attempts}")
    if task.reason:
        embed.add_field(name="reason", value=shorten(one_line(task.reason), FIELD_LIMIT),
                        inline=False)
    if task.note:
        note = escape_controls(task.note, MULTI_LINE)
        embed.add_field(name="note", value=shorten(note, FIELD_LIMIT), inline=False)
    if history:
        lines = "\n".join(event_text(e) for e in history[-10:])
        embed.add_field(name="history", value=shorten(lines, FIELD_LIMIT), inline=False)
    return embed


def agents_embed(rows: Sequence[dict[str, Any]]) -> discord.Embed:
    """The agents as a monospace table."""
    return discord.Embed(title="Agents",
                         description=shorten(f"```\n{agents_text(rows)}\n```", DESCRIPTION_LIMIT))


def status_embed(overview: dict[str, Any]) -> discord.Embed:
    """Tasks per status, deliveries per state, agents, the kill switch."""
    paused = overview["input_paused"]
    embed = discord.Embed(title="Swarm status",
                          colour=discord.Colour.red() if paused else discord.Colour.green())
    embed.add_field(name="tasks", value=", ".join(
        f"{k} {v}" for k, v in overview["tasks"].items() if v) or "none", inline=False)
    embed.add_field(name="deliveries", value=", ".join(
        f"{k} {v}" for k, v in overview["deliveries"].items() if v) or "none", inline=False)
    embed.add_field(name="desktop input", value=f"PAUSED: {paused}" if paused else "live",
                    inline=False)
    embed.add_field(name="agents", value=shorten(f"```\n{agents_text(overview['agents'])}\n```",
                                              FIELD_LIMIT), inline=False)
    return embed
