"""Slash commands: validate, one service call, format the reply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from bot.discordbot import embeds
from bot.discordbot.access import ADMIN_ONLY
from bot.discordbot.context import Bot, Choice, Completer, actor, agent_choices
from bot.discordbot.render import code_block_chunks, parse_refs, task_line
from core.errors import InvalidInput
from core.formats.text import shorten
from core.models import Priority, TaskSpec, TaskStatus

PRIORITY_CHOICES = [Choice(name=p.name, value=p.name) for p in Priority]
STATUS_CHOICES = [Choice(name=s.value, value=s.value) for s in TaskStatus]


def role_choices(bot: Bot) -> list[Choice[str]]:
    """Every configured role, once, as slash-command choices (Discord allows 25)."""
    return [Choice(name=r, value=r) for r in bot.service.roles()][:25]


def register(bot: Bot) -> None:
    """Add every command to the bot's tree."""
    tree = bot.tree
    tree.add_command(_task_group(bot))
    tree.add_command(_agent_group(bot))
    roles = role_choices(bot)

    for name in ("send", "msg"):  # /send, as `swarm send`; /msg kept as its alias
        tree.add_command(_send_command(bot, name))
    tree.add_command(_reply_command(bot))
    tree.add_command(_ask_command(bot))

    @tree.command(name="broadcast", description="Send a message to every agent (or one role)")
    @app_commands.choices(role=roles)
    async def broadcast(
        interaction: discord.Interaction, text: str, role: str | None = None
    ) -> None:
        message_id = await bot.service.broadcast(text, actor(interaction), role)
        count = len(await bot.service.deliveries(message_id))
        await interaction.response.send_message(f"📣 queued for {count} agent(s)")

    @tree.command(name="agents", description="The agents: role, state, current task")
    async def agents(interaction: discord.Interaction) -> None:
        rows = await bot.service.agent_rows()
        await interaction.response.send_message(embed=embeds.agents_embed(rows))

    @tree.command(name="status", description="Swarm overview")
    async def status(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            embed=embeds.status_embed(await bot.service.status())
        )

    @tree.command(
        name="pause",
        description="Kill switch: stop all desktop input now (admins)",
        extras=ADMIN_ONLY,
    )
    async def pause(interaction: discord.Interaction, reason: str = "") -> None:
        await bot.service.pause_input(actor(interaction), reason)
        await interaction.response.send_message("⏸️ desktop input paused")

    @tree.command(name="resume", description="Release the kill switch (admins)", extras=ADMIN_ONLY)
    async def resume(interaction: discord.Interaction) -> None:
        released = await bot.service.resume_input(actor(interaction))
        await interaction.response.send_message(
            "▶️ desktop input resumed" if released else "desktop input was not paused"
        )


def _send_command(bot: Bot, name: str) -> app_commands.Command[Any, Any, None]:
    described = "Send a message to one agent" + (" (alias of /send)" if name == "msg" else "")

    @app_commands.command(name=name, description=described)
    @app_commands.describe(agent="the agent", text="the message")
    async def send(interaction: discord.Interaction, agent: str, text: str) -> None:
        await bot.service.send(agent, text, actor(interaction))
        await interaction.response.send_message(f"📨 queued for {_agent_id(bot, agent)}")

    send.autocomplete("agent")(agent_choices(bot))
    return send


async def _task_here(
    bot: Bot, interaction: discord.Interaction, ref: str | None, command: str
) -> str | int:
    """The task named, or the one whose thread the command was used in."""
    found = ref or await bot.service.posts.task_of_thread(interaction.channel_id or 0)
    if found is None:
        raise InvalidInput(f"use /{command} in a task's thread, or give the task: id:T-3")
    return found


def _reply_command(bot: Bot) -> app_commands.Command[Any, Any, None]:
    @app_commands.command(
        name="reply",
        description="Answer a task's open question (in the task's thread, or name the task)",
    )
    @app_commands.describe(text="the answer", id="the task (default: this thread's task)")
    async def reply(interaction: discord.Interaction, text: str, id: str | None = None) -> None:
        ref = await _task_here(bot, interaction, id, "reply")
        question = await bot.service.questions.reply(ref, text, actor(interaction))
        await interaction.response.send_message(
            f"💬 answer queued for {question.agent or 'nobody'} (T-{question.task_id})",
            ephemeral=True,
        )

    reply.autocomplete("id")(_task_choices(bot, ACTIVE_ONLY))
    return reply


def _ask_command(bot: Bot) -> app_commands.Command[Any, Any, None]:
    @app_commands.command(
        name="ask",
        description="Ask a question on an active task for its "
        "agent (as swarm ask); /reply answers it",
    )
    @app_commands.describe(text="the question", id="the task (default: this thread's task)")
    async def ask(interaction: discord.Interaction, text: str, id: str | None = None) -> None:
        ref = await _task_here(bot, interaction, id, "ask")
        question = await bot.service.questions.ask(ref, text, actor(interaction))
        await interaction.response.send_message(
            f"❓ question {question.id} on T-{question.task_id} waits for an answer (/reply)",
            ephemeral=True,
        )

    ask.autocomplete("id")(_task_choices(bot, ACTIVE_ONLY))
    return ask


def _agent_id(bot: Bot, agent: str) -> str:
    return bot.service.resolve_agent(agent).id


OPEN = (TaskStatus.blocked, TaskStatus.ready, TaskStatus.assigned, TaskStatus.in_progress)
ACTIVE_ONLY = (TaskStatus.assigned, TaskStatus.in_progress)
RETRYABLE = (TaskStatus.failed, TaskStatus.cancelled)


def _task_choices(bot: Bot, statuses: Sequence[TaskStatus] | None = OPEN) -> Completer:
    """Tasks in ``statuses`` (None: any), the last of a comma-separated list completed."""

    async def complete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        *done, last = current.split(",") if current else [""]
        head = ",".join(done) + ("," if done else "")
        found = await bot.service.find_tasks(last.strip(), statuses, 25)
        return [
            Choice(
                name=shorten(f"{head}{t.ref} {t.title} [{t.status.value}]", 100),
                value=f"{head}{t.ref}",
            )
            for t in found
        ]

    return complete


def _capability_choices(bot: Bot) -> Completer:
    """The agents' capabilities, the last of a comma-separated list completed."""
    known = sorted({c for a in bot.service.agents.values() for c in a.capabilities})

    async def complete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        *done, last = current.split(",") if current else [""]
        head = ",".join(p.strip() for p in done) + ("," if done else "")
        return [
            Choice(name=f"{head}{c}", value=f"{head}{c}")
            for c in known
            if c.lower().startswith(last.strip().lower())
        ][:25]

    return complete


def _task_group(bot: Bot) -> app_commands.Group:
    group = app_commands.Group(name="task", description="Tasks")
    roles = role_choices(bot)

    @group.command(name="create", description="Create a task")
    @app_commands.describe(
        after="tasks to finish first, e.g. T-1,T-2",
        capabilities="what the agent must have, e.g. python,sql",
        details_form="open a form with a multi-line details field",
    )
    @app_commands.choices(priority=PRIORITY_CHOICES, role=roles)
    async def create(
        interaction: discord.Interaction,
        title: str,
        details: str = "",
        priority: str = "normal",
        role: str | None = None,
        agent: str | None = None,
        after: str = "",
        capabilities: str = "",
        details_form: bool = False,
    ) -> None:
        spec = TaskSpec(
            title=title,
            details=details,
            priority=priority,
            role=role,
            capabilities=tuple(capabilities.replace(",", " ").split()),
            agent=agent,
            after=tuple(parse_refs(after)),
        )
        from bot.discordbot.views import DetailsModal, reply_created

        if details_form:
            await interaction.response.send_modal(DetailsModal(spec, actor(interaction)))
            return
        task = await bot.service.create_task(spec, actor(interaction))
        await reply_created(interaction, task)

    create.autocomplete("agent")(agent_choices(bot))
    create.autocomplete("after")(_task_choices(bot))
    create.autocomplete("capabilities")(_capability_choices(bot))
    _task_queries(bot, group)
    _task_actions(bot, group)
    return group


def _task_queries(bot: Bot, group: app_commands.Group) -> None:
    @group.command(name="list", description="List tasks, newest first")
    @app_commands.choices(status=STATUS_CHOICES)
    async def list_(
        interaction: discord.Interaction, status: str | None = None, agent: str | None = None
    ) -> None:
        found = await bot.service.list_tasks(status, agent, limit=100)
        text = "\n".join(task_line(t) for t in found) or "no tasks"
        chunks = code_block_chunks(text)
        await interaction.response.send_message(chunks[0])
        for chunk in chunks[1:]:
            await interaction.followup.send(chunk)

    list_.autocomplete("agent")(agent_choices(bot))

    @group.command(name="show", description="One task with its history")
    async def show(interaction: discord.Interaction, id: str) -> None:
        task = await bot.service.get_task(id)
        history = await bot.service.events(task=task.id, limit=20)
        commits = await bot.service.workspaces.commit_events(task.id)
        await interaction.response.send_message(embed=embeds.task_embed(task, history, commits))

    show.autocomplete("id")(_task_choices(bot, None))


def _task_actions(bot: Bot, group: app_commands.Group) -> None:
    @group.command(name="done", description="Mark a task done")
    async def done(interaction: discord.Interaction, id: str, note: str = "") -> None:
        await bot.service.complete_task(id, actor(interaction), note)
        await _answer(bot, interaction, id, "✅")

    @group.command(name="fail", description="Mark a task failed")
    async def fail(interaction: discord.Interaction, id: str, reason: str) -> None:
        await bot.service.fail_task(id, actor(interaction), reason)
        await _answer(bot, interaction, id, "❌")

    @group.command(name="cancel", description="Cancel a task")
    async def cancel(interaction: discord.Interaction, id: str) -> None:
        await bot.service.cancel_task(id, actor(interaction))
        await _answer(bot, interaction, id, "🛑")

    @group.command(name="retry", description="Retry a failed or cancelled task")
    async def retry(interaction: discord.Interaction, id: str) -> None:
        await bot.service.retry_task(id, actor(interaction))
        await _answer(bot, interaction, id, "🔁")

    @group.command(
        name="assign", description="Give a task to one agent (admins)", extras=ADMIN_ONLY
    )
    async def assign(interaction: discord.Interaction, id: str, agent: str) -> None:
        await bot.service.assign_task(id, agent, actor(interaction))
        await _answer(bot, interaction, id, "👉")

    @group.command(name="depend", description="Make a task wait for others, e.g. T-1,T-2")
    @app_commands.describe(id="the task that waits", after="tasks to finish first: T-1,T-2")
    async def depend(interaction: discord.Interaction, id: str, after: str) -> None:
        await bot.service.add_dependencies(id, parse_refs(after), actor(interaction))
        task = await bot.service.get_task(id)
        await interaction.response.send_message(
            f"⏳ {task.ref} waits for {', '.join(f'T-{d}' for d in task.after)}"
        )

    @group.command(
        name="review",
        description="Send a review comment to the agent that did a task (admins)",
        extras=ADMIN_ONLY,
    )
    @app_commands.describe(
        text="the comment (the agent gets it quoted)",
        file="a file of the task's work, e.g. src/app.py (with line)",
        line="the line of that file the comment is on",
    )
    async def review(
        interaction: discord.Interaction,
        id: str,
        text: str,
        file: str | None = None,
        line: app_commands.Range[int, 1] | None = None,
    ) -> None:
        sent = await bot.service.reviews.send_one(id, actor(interaction), text, file, line)
        task = await bot.service.get_task(sent.task)
        await interaction.response.send_message(
            f"📝 review sent to {sent.agent}"
            + (" (reopened)" if sent.reopened else "")
            + f": {task_line(task)}"
        )

    depend.autocomplete("after")(_task_choices(bot))
    offered: list[tuple[app_commands.Command[Any, Any, None], Sequence[TaskStatus]]] = [
        (depend, (TaskStatus.blocked, TaskStatus.ready)),
        (done, ACTIVE_ONLY),
        (fail, ACTIVE_ONLY),
        (cancel, OPEN),
        (retry, RETRYABLE),
        (assign, OPEN),
        (review, (*ACTIVE_ONLY, TaskStatus.done)),
    ]
    for command, statuses in offered:
        command.autocomplete("id")(_task_choices(bot, statuses))
    assign.autocomplete("agent")(agent_choices(bot))


async def _answer(bot: Bot, interaction: discord.Interaction, ref: str, icon: str) -> None:
    task = await bot.service.get_task(ref)
    await interaction.response.send_message(f"{icon} {task_line(task)}")


def _agent_group(bot: Bot) -> app_commands.Group:
    group = app_commands.Group(name="agent", description="Pause or resume one agent")

    @group.command(
        name="pause", description="No new tasks for this agent (admins)", extras=ADMIN_ONLY
    )
    async def pause(interaction: discord.Interaction, agent: str) -> None:
        changed = await bot.service.set_agent_paused(agent, True, actor(interaction))
        name = _agent_id(bot, agent)
        await interaction.response.send_message(
            f"⏸️ {name} paused" if changed else f"{name} was already paused"
        )

    @group.command(
        name="resume", description="The agent takes tasks again (admins)", extras=ADMIN_ONLY
    )
    async def resume(interaction: discord.Interaction, agent: str) -> None:
        changed = await bot.service.set_agent_paused(agent, False, actor(interaction))
        name = _agent_id(bot, agent)
        await interaction.response.send_message(
            f"▶️ {name} resumed" if changed else f"{name} was not paused"
        )

    pause.autocomplete("agent")(agent_choices(bot))
    resume.autocomplete("agent")(agent_choices(bot))
    return group
