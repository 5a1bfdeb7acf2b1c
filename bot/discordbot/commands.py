"""The swarm's top-level slash commands (:class:`SwarmCommands`) and ``/agent``
(:class:`AgentGroup`); ``/task`` is :mod:`bot.discordbot.task_commands`'. Each command is a
method of an object holding the bot: validate, one service call, format the reply."""

from __future__ import annotations

import discord
from discord import app_commands

from automation.turn_stop import stop_and_record
from bot.discordbot import completers, embeds, workspace_commands
from bot.discordbot.access import ADMIN_ONLY
from bot.discordbot.completers import ACTIVE_ONLY, tasks_in
from bot.discordbot.context import FRONT_END, Bot, SlashCommand, actor
from bot.discordbot.task_commands import TaskGroup
from core.errors import InvalidInput


def register(bot: Bot) -> None:
    """Add ``/task``, ``/agent`` and the top-level commands to the bot's tree."""
    bot.tree.add_command(TaskGroup(bot))
    bot.tree.add_command(AgentGroup(bot))
    for command in SwarmCommands(bot).commands():
        bot.tree.add_command(command)


class SwarmCommands:
    """/send (and its alias /msg), /reply, /ask, /broadcast, /agents, /status, /pause and
    /resume, each built by :meth:`commands` from a method bound to this object."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def commands(self) -> list[SlashCommand]:
        """The commands, in the order Discord lists them; /broadcast offers the bot's roles."""
        broadcast: SlashCommand = app_commands.Command(
            name="broadcast",
            description="Send a message to every agent (or one role)",
            callback=self.broadcast,
        )
        return [
            app_commands.Command(
                name="send", description="Send a message to one agent", callback=self.send
            ),
            app_commands.Command(
                name="msg",
                description="Send a message to one agent (alias of /send)",
                callback=self.send,
            ),
            app_commands.Command(
                name="reply",
                description="Answer a task's open question "
                "(in the task's thread, or name the task)",
                callback=self.reply,
            ),
            app_commands.Command(
                name="ask",
                description="Ask a question on an active task for its "
                "agent (as swarm ask); /reply answers it",
                callback=self.ask,
            ),
            app_commands.choices(role=completers.role_choices(self.bot))(broadcast),
            app_commands.Command(
                name="agents",
                description="The agents: role, state, current task",
                callback=self.agents,
            ),
            app_commands.Command(name="status", description="Swarm overview", callback=self.status),
            app_commands.Command(
                name="pause",
                description="Kill switch: stop all desktop input now (admins)",
                callback=self.pause,
                extras=ADMIN_ONLY,
            ),
            app_commands.Command(
                name="resume",
                description="Release the kill switch (admins)",
                callback=self.resume,
                extras=ADMIN_ONLY,
            ),
        ]

    @app_commands.describe(agent="the agent", text="the message")
    @app_commands.autocomplete(agent=completers.agents)
    async def send(self, interaction: discord.Interaction, agent: str, text: str) -> None:
        """/send and /msg."""
        await self.bot.service.messages.send(agent, text, actor(interaction))
        name = self.bot.service.resolve_agent(agent).id
        await interaction.response.send_message(f"📨 queued for {name}")

    @app_commands.describe(text="the answer", id="the task (default: this thread's task)")
    @app_commands.autocomplete(id=tasks_in(ACTIVE_ONLY))
    async def reply(
        self, interaction: discord.Interaction, text: str, id: str | None = None
    ) -> None:
        """/reply: the answer goes to the agent that asked."""
        ref = await self._task_here(interaction, id, "reply")
        question = await self.bot.service.questions.reply(ref, text, actor(interaction))
        await interaction.response.send_message(
            f"💬 answer queued for {question.agent or 'nobody'} (T-{question.task_id})",
            ephemeral=True,
        )

    @app_commands.describe(text="the question", id="the task (default: this thread's task)")
    @app_commands.autocomplete(id=tasks_in(ACTIVE_ONLY))
    async def ask(self, interaction: discord.Interaction, text: str, id: str | None = None) -> None:
        """/ask: a question for the task's agent, answered with /reply."""
        ref = await self._task_here(interaction, id, "ask")
        question = await self.bot.service.questions.ask(ref, text, actor(interaction))
        await interaction.response.send_message(
            f"❓ question {question.id} on T-{question.task_id} waits for an answer (/reply)",
            ephemeral=True,
        )

    async def broadcast(
        self, interaction: discord.Interaction, text: str, role: str | None = None
    ) -> None:
        """/broadcast (its role choices are set in :meth:`commands`)."""
        message_id = await self.bot.service.messages.broadcast(text, actor(interaction), role)
        count = len(await self.bot.service.messages.deliveries(message_id))
        await interaction.response.send_message(f"📣 queued for {count} agent(s)")

    async def agents(self, interaction: discord.Interaction) -> None:
        """/agents."""
        rows = await self.bot.service.roster.rows()
        await interaction.response.send_message(embed=embeds.agents_embed(rows))

    async def status(self, interaction: discord.Interaction) -> None:
        """/status."""
        found = await self.bot.service.status()
        await interaction.response.send_message(embed=embeds.status_embed(found))

    async def pause(self, interaction: discord.Interaction, reason: str = "") -> None:
        """/pause: the kill switch."""
        await self.bot.service.pause_input(actor(interaction), reason)
        await interaction.response.send_message("⏸️ desktop input paused")

    async def resume(self, interaction: discord.Interaction) -> None:
        """/resume: the kill switch released."""
        released = await self.bot.service.resume_input(actor(interaction))
        await interaction.response.send_message(
            "▶️ desktop input resumed" if released else "desktop input was not paused"
        )

    async def _task_here(
        self, interaction: discord.Interaction, ref: str | None, command: str
    ) -> str | int:
        """The task named, or the one whose thread the command was used in."""
        found = ref or await self.bot.service.posts.task_of_thread(
            FRONT_END, str(interaction.channel_id)
        )
        if found is None:
            raise InvalidInput(f"use /{command} in a task's thread, or give the task: id:T-3")
        return found


class AgentGroup(
    app_commands.Group, name="agent", description="Pause, resume, stop or reset one agent"
):
    """``/agent pause|resume|stop|reset`` (admins)."""

    def __init__(self, bot: Bot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(
        name="pause", description="No new tasks for this agent (admins)", extras=ADMIN_ONLY
    )
    @app_commands.autocomplete(agent=completers.agents)
    async def pause(self, interaction: discord.Interaction, agent: str) -> None:
        changed = await self.bot.service.roster.set_paused(agent, True, actor(interaction))
        name = self.bot.service.resolve_agent(agent).id
        await interaction.response.send_message(
            f"⏸️ {name} paused" if changed else f"{name} was already paused"
        )

    @app_commands.command(
        name="resume", description="The agent takes tasks again (admins)", extras=ADMIN_ONLY
    )
    @app_commands.autocomplete(agent=completers.agents)
    async def resume(self, interaction: discord.Interaction, agent: str) -> None:
        changed = await self.bot.service.roster.set_paused(agent, False, actor(interaction))
        name = self.bot.service.resolve_agent(agent).id
        await interaction.response.send_message(
            f"▶️ {name} resumed" if changed else f"{name} was not paused"
        )

    @app_commands.command(
        name="stop",
        description="Stop the agent's running turn now; its task stays (admins)",
        extras=ADMIN_ONLY,
    )
    @app_commands.autocomplete(agent=completers.agents)
    async def stop(self, interaction: discord.Interaction, agent: str) -> None:
        """As ``swarm agents stop``; the channel gets the ``agent.stopped`` line, so the
        answer (and a failure) is the presser's only. A host may take seconds: deferred."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        call = stop_and_record(self.bot.service, agent, actor(interaction), on_coordinator=True)
        found, stop = await call
        said = f"{found.id}: {stop.said}"
        await interaction.followup.send(f"⏹️ {said}" if stop.done else said, ephemeral=True)

    @app_commands.command(
        name="reset",
        description="Clear an agent's conversation, then onboard it (admins)",
        extras=ADMIN_ONLY,
    )
    @app_commands.autocomplete(agent=completers.agents)
    async def reset(self, interaction: discord.Interaction, agent: str) -> None:
        await workspace_commands.reset_agent(self.bot, interaction, agent)
