"""A small real discord.py bot used to exercise the local Discord server."""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from discord import app_commands
from localdiscord import local_client_options

log = logging.getLogger(__name__)
TASK_IDS = ["T-1", "T-2", "T-10", "T-11"]


class ConfirmView(discord.ui.View):
    """One button; clicking it edits the message and records the clicker."""

    def __init__(self, bot: SampleBot) -> None:
        super().__init__(timeout=30)
        self.bot = bot

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.success, custom_id="confirm")
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.bot.clicks.append(interaction.user.id)
        await interaction.response.edit_message(content="confirmed", view=None)


class PickView(discord.ui.View):
    """A string select menu."""

    @discord.ui.select(
        custom_id="colour",
        options=[discord.SelectOption(label=c, value=c) for c in ("red", "green", "blue")],
        max_values=2,
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"picked {','.join(select.values)}")


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A one-field modal."""

    comment: discord.ui.TextInput = discord.ui.TextInput(label="Comment")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.comment.value}")


class SampleBot(discord.Client):
    """A client with a command tree: ping, echo, task show/create, status, slow, announce..."""

    def __init__(self, guild_id: int, announce_channel_id: int) -> None:
        super().__init__(**local_client_options())
        self.guild_id = guild_id
        self.announce_channel_id = announce_channel_id
        self.tree = app_commands.CommandTree(self)
        self.clicks: list[int] = []
        self.errors: list[Exception] = []
        self.seen_messages: list[discord.Message] = []
        self.resumed = asyncio.Event()
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        _add_commands(self)

    async def setup_hook(self) -> None:
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Skip discord.py's 5 s pause before re-IDENTIFY (it protects Discord's rate limit)."""

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.errors.append(error)


def _add_commands(bot: SampleBot) -> None:
    tree = bot.tree

    @tree.command(description="Answer pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @tree.command(description="Repeat the text")
    async def echo(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(text)

    tree.add_command(_task_group())

    @tree.command(description="Status with an embed and a button")
    async def status(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Status", description="3 agents busy")
        embed.add_field(name="queue", value="2")
        await interaction.response.send_message(embed=embed, view=ConfirmView(bot))

    @tree.command(description="Deferred work with a followup")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send("done slowly")
        await interaction.followup.send("and one more")

    @tree.command(description="Post a report to the announce channel")
    async def announce(interaction: discord.Interaction, text: str) -> None:
        channel = bot.get_channel(bot.announce_channel_id)
        assert isinstance(channel, discord.TextChannel)
        embed = discord.Embed(title="Report", description=text)
        report = discord.File(io.BytesIO(b"report body\n"), filename="report.txt")
        await channel.send("new report", embed=embed, file=report)
        await interaction.response.send_message("posted", ephemeral=True)

    @tree.command(description="Ephemeral defer, then edits and an ephemeral followup")
    async def think(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="thought")
        original = await interaction.original_response()
        await interaction.followup.send(f"extra for {original.id}", ephemeral=True)

    @tree.command(description="A select menu")
    async def pick(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pick colours", view=PickView(timeout=30))

    @tree.command(description="Open a modal")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @tree.command(description="Answer too late")
    async def late(interaction: discord.Interaction, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await interaction.response.send_message("finally")


def _task_group() -> app_commands.Group:
    task = app_commands.Group(name="task", description="Tasks")

    async def complete_id(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TASK_IDS if t.startswith(current)]

    @task.command(name="show", description="Show a task")
    @app_commands.autocomplete(id=complete_id)
    async def show(interaction: discord.Interaction, id: str) -> None:
        await interaction.response.send_message(f"task {id}")

    @task.command(name="create", description="Create a task")
    @app_commands.choices(priority=[app_commands.Choice(name=p, value=p) for p in ("low", "high")])
    async def create(
        interaction: discord.Interaction,
        title: str,
        priority: str,
        assignee: discord.Member | None = None,
        estimate: int = 1,
    ) -> None:
        who = assignee.display_name if assignee else "nobody"
        by = interaction.user.display_name
        text = f"{title} [{priority}] -> {who} ({estimate}h) by {by}"
        await interaction.response.send_message(text)

    return task
