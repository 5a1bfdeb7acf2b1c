"""``/task``: one :class:`TaskGroup` whose methods are its subcommands, holding the bot."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discordbot import completers, embeds, workspace_commands
from bot.discordbot.access import ADMIN_ONLY
from bot.discordbot.completers import ACTIVE_ONLY, OPEN, RETRYABLE, tasks_in
from bot.discordbot.context import Bot, Choice, SlashCommand, actor
from bot.discordbot.render import code_block_chunks, parse_refs, task_line
from bot.discordbot.views import DetailsModal, reply_created
from core.models import Priority, TaskSpec, TaskStatus

PRIORITY_CHOICES = [Choice(name=p.name, value=p.name) for p in Priority]
STATUS_CHOICES = [Choice(name=s.value, value=s.value) for s in TaskStatus]


class TaskGroup(app_commands.Group, name="task", description="Tasks"):
    """Create, list, show and move tasks; ``create`` offers the bot's configured roles."""

    def __init__(self, bot: Bot) -> None:
        super().__init__()
        self.bot = bot
        # /task create is built here, for this bot: its role choices are the bot's roles (a
        # class-level declaration is shared by every bot). It stays first, as Discord lists it.
        own = self.commands
        for command in own:
            self.remove_command(command.name)
        created: SlashCommand = app_commands.Command(
            name="create", description="Create a task", callback=self.create
        )
        self.add_command(app_commands.choices(role=completers.role_choices(bot))(created))
        for command in own:
            self.add_command(command)

    @app_commands.describe(
        after="tasks to finish first, e.g. T-1,T-2",
        capabilities="what the agent must have, e.g. python,sql",
        details_form="open a form with a multi-line details field",
    )
    @app_commands.choices(priority=PRIORITY_CHOICES)
    @app_commands.autocomplete(
        agent=completers.agents, after=tasks_in(OPEN), capabilities=completers.capabilities
    )
    async def create(
        self,
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
        """``/task create`` (built per bot in ``__init__``: its role choices are the bot's)."""
        spec = TaskSpec(
            title=title,
            details=details,
            priority=priority,
            role=role,
            capabilities=tuple(capabilities.replace(",", " ").split()),
            agent=agent,
            after=tuple(parse_refs(after)),
        )

        if details_form:
            await interaction.response.send_modal(DetailsModal(spec, actor(interaction)))
            return
        task = await self.bot.service.tasks.create(spec, actor(interaction))
        await reply_created(interaction, task)

    @app_commands.command(name="list", description="List tasks, newest first")
    @app_commands.choices(status=STATUS_CHOICES)
    @app_commands.autocomplete(agent=completers.agents)
    async def list_(
        self, interaction: discord.Interaction, status: str | None = None, agent: str | None = None
    ) -> None:
        found = await self.bot.service.tasks.newest(status, agent, limit=100)
        text = "\n".join(task_line(t) for t in found) or "no tasks"
        chunks = code_block_chunks(text)
        await interaction.response.send_message(chunks[0])
        for chunk in chunks[1:]:
            await interaction.followup.send(chunk)

    @app_commands.command(name="show", description="One task with its history")
    @app_commands.autocomplete(id=tasks_in(None))
    async def show(self, interaction: discord.Interaction, id: str) -> None:
        task = await self.bot.service.tasks.get(id)
        history = await self.bot.service.history.events(task=task.id, limit=20)
        commits = await self.bot.service.workspaces.commit_events(task.id)
        await interaction.response.send_message(embed=embeds.task_embed(task, history, commits))

    @app_commands.command(name="done", description="Mark a task done")
    @app_commands.autocomplete(id=tasks_in(ACTIVE_ONLY))
    async def done(self, interaction: discord.Interaction, id: str, note: str = "") -> None:
        await self.bot.service.tasks.complete(id, actor(interaction), note)
        await self._answer(interaction, id, "✅")

    @app_commands.command(name="fail", description="Mark a task failed")
    @app_commands.autocomplete(id=tasks_in(ACTIVE_ONLY))
    async def fail(self, interaction: discord.Interaction, id: str, reason: str) -> None:
        await self.bot.service.tasks.fail(id, actor(interaction), reason)
        await self._answer(interaction, id, "❌")

    @app_commands.command(name="cancel", description="Cancel a task")
    @app_commands.autocomplete(id=tasks_in(OPEN))
    async def cancel(self, interaction: discord.Interaction, id: str) -> None:
        await self.bot.service.tasks.cancel(id, actor(interaction))
        await self._answer(interaction, id, "🛑")

    @app_commands.command(name="retry", description="Retry a failed or cancelled task")
    @app_commands.autocomplete(id=tasks_in(RETRYABLE))
    async def retry(self, interaction: discord.Interaction, id: str) -> None:
        await self.bot.service.tasks.retry(id, actor(interaction))
        await self._answer(interaction, id, "🔁")

    @app_commands.command(
        name="assign", description="Give a task to one agent (admins)", extras=ADMIN_ONLY
    )
    @app_commands.autocomplete(id=tasks_in(OPEN), agent=completers.agents)
    async def assign(self, interaction: discord.Interaction, id: str, agent: str) -> None:
        await self.bot.service.tasks.assign(id, agent, actor(interaction))
        await self._answer(interaction, id, "👉")

    @app_commands.command(name="depend", description="Make a task wait for others, e.g. T-1,T-2")
    @app_commands.describe(id="the task that waits", after="tasks to finish first: T-1,T-2")
    @app_commands.autocomplete(
        id=tasks_in((TaskStatus.blocked, TaskStatus.ready)), after=tasks_in(OPEN)
    )
    async def depend(self, interaction: discord.Interaction, id: str, after: str) -> None:
        await self.bot.service.tasks.add_dependencies(id, parse_refs(after), actor(interaction))
        task = await self.bot.service.tasks.get(id)
        await interaction.response.send_message(
            f"⏳ {task.ref} waits for {', '.join(f'T-{d}' for d in task.after)}"
        )

    @app_commands.command(
        name="review",
        description="Send a review comment to the agent that did a task (admins)",
        extras=ADMIN_ONLY,
    )
    @app_commands.describe(
        text="the comment (the agent gets it quoted)",
        file="a file of the task's work, e.g. src/app.py (with line)",
        line="the line of that file the comment is on",
    )
    @app_commands.autocomplete(id=tasks_in((*ACTIVE_ONLY, TaskStatus.done)))
    async def review(
        self,
        interaction: discord.Interaction,
        id: str,
        text: str,
        file: str | None = None,
        line: app_commands.Range[int, 1] | None = None,
    ) -> None:
        sent = await self.bot.service.reviews.send_one(id, actor(interaction), text, file, line)
        task = await self.bot.service.tasks.get(sent.task)
        await interaction.response.send_message(
            f"📝 review sent to {sent.agent}"
            + (" (reopened)" if sent.reopened else "")
            + f": {task_line(task)}"
        )

    @app_commands.command(name="diff", description="The diff of a task's commits, as a file")
    async def diff(self, interaction: discord.Interaction, id: str) -> None:
        await workspace_commands.send_diff(self.bot, interaction, id)

    @app_commands.command(
        name="merge", description="Merge a task's commits (admins; asks first)", extras=ADMIN_ONLY
    )
    @app_commands.describe(into="target branch (default: the workspace's base)")
    async def merge(
        self, interaction: discord.Interaction, id: str, into: str | None = None
    ) -> None:
        await workspace_commands.ask_merge(self.bot, interaction, id, into)

    async def _answer(self, interaction: discord.Interaction, ref: str, icon: str) -> None:
        task = await self.bot.service.tasks.get(ref)
        await interaction.response.send_message(f"{icon} {task_line(task)}")
