"""Embeds for tasks, agents and the swarm status (within Discord's embed limits)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import discord

from bot.discordbot.cards import STATE_ICONS
from bot.discordbot.render import agents_text
from core.event_kinds import event_text
from core.formats.text import MULTI_LINE, escape_controls, one_line, shorten
from core.formats.timetext import showable, whole_seconds
from core.models import Event, Task, TaskStatus, task_ref
from core.reports.counts import deliveries_text, tasks_text
from core.workflows.campaigns import Campaign
from core.workflows.pace import duration_text

COLOURS = {
    TaskStatus.done: discord.Colour.green(),
    TaskStatus.failed: discord.Colour.red(),
    TaskStatus.blocked: discord.Colour.orange(),
    TaskStatus.cancelled: discord.Colour.dark_grey(),
}
FIELD_LIMIT = 1024
MAX_COMMIT_LINES = 10
DESCRIPTION_LIMIT = 4096
DAY_S = 86400.0


def task_embed(
    task: Task, history: Sequence[Event] = (), commits: Sequence[Event] = ()
) -> discord.Embed:
    """One task: status, priority, agent, dependencies, reason, recent history, and the
    commits of each turn done in a workspace with the last one's diff stat."""
    details = escape_controls(task.details, MULTI_LINE)
    embed = discord.Embed(
        title=shorten(one_line(f"{task.ref}: {task.title}"), 256),
        description=shorten(details, DESCRIPTION_LIMIT) or None,
        colour=COLOURS.get(task.status, discord.Colour.blurple()),
    )
    embed.add_field(name="status", value=task.status.value)
    embed.add_field(name="priority", value=task.priority.name)
    embed.add_field(
        name="agent", value=task.agent or (f"for {task.pinned}" if task.pinned else "-")
    )
    embed.add_field(name="role", value=task.role or "any")
    embed.add_field(name="after", value=", ".join(task_ref(d) for d in task.after) or "-")
    embed.add_field(name="attempts", value=f"{task.attempts}/{task.max_attempts}")
    if task.reason:
        embed.add_field(
            name="reason", value=shorten(one_line(task.reason), FIELD_LIMIT), inline=False
        )
    if task.note:
        note = escape_controls(task.note, MULTI_LINE)
        embed.add_field(name="note", value=shorten(note, FIELD_LIMIT), inline=False)
    if history:
        lines = "\n".join(event_text(e) for e in history[-10:])
        embed.add_field(name="history", value=shorten(lines, FIELD_LIMIT), inline=False)
    for event in commits:
        _add_commits(embed, event)
    if commits and (commits[-1].data or {}).get("stat"):
        stat = escape_controls(str((commits[-1].data or {})["stat"]), MULTI_LINE)
        embed.add_field(name="diff stat", value=_code(stat, FIELD_LIMIT), inline=False)
    return embed


def _add_commits(embed: discord.Embed, event: Event) -> None:
    """``commits by Agent-2 on swarm/Agent-2``: ``abc1234567 subject`` per commit."""
    data = event.data or {}
    found = [c for c in data.get("commits") or [] if isinstance(c, dict)]
    lines = [
        one_line(f"`{str(c.get('sha', ''))[:10]}` {c.get('subject', '')}")
        for c in found[-MAX_COMMIT_LINES:]
    ]
    if len(found) > MAX_COMMIT_LINES:
        lines.insert(0, f"… {len(found) - MAX_COMMIT_LINES} earlier")
    name = one_line(f"commits by {event.agent or '?'} on {data.get('branch') or '?'}")
    embed.add_field(
        name=shorten(name, 256),
        value=shorten("\n".join(lines) or "none", FIELD_LIMIT),
        inline=False,
    )


def _code(text: str, limit: int) -> str:
    """``text`` in a code block of at most ``limit`` characters (its end kept: git's stat
    ends with the totals)."""
    room = limit - 8
    body = text if len(text) <= room else "…" + text[-(room - 1) :]
    return f"```\n{body}\n```"


def agents_embed(rows: Sequence[dict[str, Any]]) -> discord.Embed:
    """The agents as a monospace table."""
    return discord.Embed(
        title="Agents", description=shorten(f"```\n{agents_text(rows)}\n```", DESCRIPTION_LIMIT)
    )


def discord_time(ts: float, now: float | None = None) -> str:
    """``<t:1710000000:t>``, shown by Discord in each reader's zone: the time, with its date
    (``:f``) when it is more than a day from ``now``; any value (``core.formats.timetext``)."""
    now = time.time() if now is None else now
    style = "t" if abs(showable(ts) - now) < DAY_S else "f"
    return f"<t:{whole_seconds(ts)}:{style}>"


def status_embed(overview: dict[str, Any]) -> discord.Embed:
    """Tasks per status, deliveries per state, agents, the kill switch."""
    paused = overview["input_paused"]
    embed = discord.Embed(
        title="Swarm status", colour=discord.Colour.red() if paused else discord.Colour.green()
    )
    embed.add_field(
        name="tasks",
        value=", ".join(f"{k} {v}" for k, v in overview["tasks"].items() if v) or "none",
        inline=False,
    )
    embed.add_field(
        name="deliveries",
        value=", ".join(f"{k} {v}" for k, v in overview["deliveries"].items() if v) or "none",
        inline=False,
    )
    embed.add_field(
        name="desktop input", value=f"PAUSED: {paused}" if paused else "live", inline=False
    )
    limited = overview.get("limited") or {}
    if limited.get("all"):
        embed.add_field(
            name="usage limits",
            value=f"every agent is limited until {discord_time(limited['until'])}: "
            "ready tasks wait",
            inline=False,
        )
    embed.add_field(
        name="agents",
        value=shorten(f"```\n{agents_text(overview['agents'])}\n```", FIELD_LIMIT),
        inline=False,
    )
    return embed


CAMPAIGN_COLOURS = {"finished": discord.Colour.green(), "cancelled": discord.Colour.dark_grey()}
BAR_WIDTH = 20
MAX_TASK_LINES = 40


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``▰▰▰▰▱▱▱▱ 4/8`` (filled in proportion to ``done``)."""
    filled = round(width * done / total) if total else 0
    return f"{'▰' * filled}{'▱' * (width - filled)} {done}/{total}"


def campaign_embed(campaign: Campaign, now: float) -> discord.Embed:
    """A campaign's progress bar, counts, times (Discord renders ``<t:..:R>`` live) and
    tasks; only the estimate moves with the clock (to the minute), so a replay of events
    seldom edits an unchanged campaign."""
    summary = campaign.to_json(now)
    embed = discord.Embed(
        title=shorten(one_line(f"{campaign.ref}: {campaign.title}"), 256),
        description=_campaign_description(campaign, summary),
        colour=CAMPAIGN_COLOURS.get(summary["state"], discord.Colour.blurple()),
    )
    embed.add_field(name="state", value=summary["state"])
    embed.add_field(name="failed", value=str(summary["failed"]))
    embed.add_field(name="blocked", value=str(summary["blocked"]))
    embed.add_field(name="gates waiting", value=", ".join(summary["gates_waiting"]) or "none")
    embed.add_field(name="started", value=f"<t:{int(campaign.created_at)}:R>")
    embed.add_field(
        name="finish", value=shorten(_finish_text(summary, now), FIELD_LIMIT), inline=False
    )
    happened = summary["happened"]
    embed.add_field(
        name="history",
        value=f"{tasks_text(happened)}; deliveries: {deliveries_text(happened)}",
        inline=False,
    )
    return embed


def _campaign_description(campaign: Campaign, summary: dict[str, Any]) -> str:
    gates = set(summary["gates_waiting"])
    lines = [f"`{progress_bar(summary['done'], summary['total'])}` done or skipped", ""]
    for task in campaign.tasks[:MAX_TASK_LINES]:
        icon = "✋" if task.ref in gates else STATE_ICONS[task.status]
        who = f" ({task.agent})" if task.agent else ""
        lines.append(shorten(one_line(f"{icon} {task.ref} {task.title}{who}"), 90))
    if len(campaign.tasks) > MAX_TASK_LINES:
        lines.append(f"… and {len(campaign.tasks) - MAX_TASK_LINES} more")
    return shorten(escape_controls("\n".join(lines), MULTI_LINE), DESCRIPTION_LIMIT)


def _finish_text(summary: dict[str, Any], now: float) -> str:
    if summary["state"] != "open":
        return f"{summary['state']} after {duration_text(summary['elapsed_s'])}"
    left, basis = summary["remaining_s"], summary["estimate_basis"] or ""
    if left is None:
        return basis or "no estimate yet"
    at = int(round((now + left) / 60) * 60)  # to the minute: a replay does not edit again
    return f"about <t:{at}:R> ({basis})"
