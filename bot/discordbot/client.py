"""The Discord client: command tree, authorization, central error handler, notifier."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.discordbot import (
    ai_commands,
    commands,
    github_commands,
    history_commands,
    inbox_commands,
    reservation_commands,
    watch_commands,
    workflow_commands,
    workspace_commands,
)
from bot.discordbot.access import Access, access_of, needed_for, refusal
from bot.discordbot.ack import AckWatch
from bot.discordbot.gates import GateButton
from bot.discordbot.github_posts import CiButton
from bot.discordbot.notifier import Notifier
from bot.discordbot.prompt_posts import PromptButton
from bot.discordbot.settings import DiscordSettings
from bot.discordbot.views import TaskButton
from core.errors import ConfigError, SwarmError
from core.github.settings import GitHubSettings
from core.privacy.redact import redact_urls
from core.service.swarm import SwarmService
from core.waits import Background, within

if TYPE_CHECKING:
    from core.service.ai import AIBook

log = logging.getLogger(__name__)


def default_intents() -> discord.Intents:
    """Guilds only: slash commands and buttons need no privileged intents."""
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


class SwarmTree(app_commands.CommandTree["SwarmBot"]):
    """Checks access before every command; turns errors into short ephemeral replies."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Authorize (and audit) every slash command; autocomplete needs the same access."""
        command = interaction.command
        name = command.qualified_name if command else "unknown"
        if interaction.type is discord.InteractionType.autocomplete:
            return self.client.access(interaction) is not Access.refused
        self.client.acks.watch(interaction)  # the ack latency, for /metrics
        return await self.client.authorize(
            interaction, name, needed_for(command), _options(interaction)
        )

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Known errors → their message; anything else → an apology and a log line."""
        original = getattr(error, "original", error)
        if isinstance(original, SwarmError):
            await _reply(interaction, f"⚠️ {redact_urls(str(original))}")
            return
        if isinstance(error, app_commands.CheckFailure):
            return  # already answered by authorize()
        log.error(
            "command %s failed",
            interaction.command and interaction.command.qualified_name,
            exc_info=original,
        )
        await _reply(interaction, "Sorry, something went wrong; it has been logged.")


async def _reply(interaction: discord.Interaction, text: str) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


def _options(interaction: discord.Interaction) -> str:
    data: Any = interaction.data or {}
    found: list[str] = []

    def walk(options: list[dict[str, Any]]) -> None:
        for option in options:
            if "options" in option:
                walk(option["options"])
            elif "value" in option:
                found.append(f"{option['name']}={option['value']}")

    walk(data.get("options", []))
    return " ".join(found)[:500]


class SwarmBot(discord.Client):
    """The swarm's Discord bot."""

    def __init__(
        self,
        service: SwarmService,
        settings: DiscordSettings,
        ai: AIBook,
        *,
        github: GitHubSettings | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("intents", default_intents())
        # Text from users (titles, notes, messages) is echoed: it must never ping anyone.
        # The one mention the bot means (the alerts role) is allowed per message.
        options["allowed_mentions"] = discord.AllowedMentions.none()
        super().__init__(**options)
        self.service = service
        self.settings = settings
        self.ai = ai  # owned by the composition root, which closes it
        self.github = github or GitHubSettings()  # a task's PR is merged on GitHub, gated
        self.tree = SwarmTree(self)
        self.acks = AckWatch(service)
        self.notifier = Notifier(self, service)
        self._notifier_task: asyncio.Task[None] | None = None
        self._posting = Background("Discord")  # the notifier, from ``setup_hook`` to ``close``
        commands.register(self)
        ai_commands.register(self)
        watch_commands.register(self)
        history_commands.register(self)
        workflow_commands.register(self)
        reservation_commands.register(self)
        inbox_commands.register(self)
        github_commands.register(self, self.github)

    async def setup_hook(self) -> None:
        """Check the configured guild and channels, sync commands, start the notifier."""
        await self._check_guild_and_channels()
        self.add_dynamic_items(
            TaskButton, ai_commands.PlanButton, GateButton, workspace_commands.MergeButton
        )
        self.add_dynamic_items(PromptButton, CiButton, inbox_commands.NeedButton)
        guild = discord.Object(self.settings.guild_id or 0)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)
        self._notifier_task = self._posting.start(self.notifier.run(), name="notifier")

    async def _check_guild_and_channels(self) -> None:
        try:
            await self.fetch_guild(self.settings.guild_id or 0)
        except (discord.NotFound, discord.Forbidden):
            raise ConfigError(
                f"SWARM_GUILD_ID {self.settings.guild_id}: no such guild, or the bot is not in it"
            ) from None
        for name, channel_id in (
            ("SWARM_CHANNEL_ID", self.settings.channel_id),
            ("SWARM_ALERTS_CHANNEL_ID", self.settings.alerts_channel_id),
        ):
            if channel_id is None:
                continue
            try:
                await self.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden):
                raise ConfigError(f"{name} {channel_id}: no such channel the bot can see") from None

    async def close(self) -> None:
        """Let the notifier finish its message in flight (bounded), then disconnect."""
        self.acks.close()
        if self._notifier_task is not None:
            self.notifier.stop()
            try:
                await within(asyncio.shield(self._notifier_task), 5)
            except (TimeoutError, asyncio.CancelledError):
                self._notifier_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._notifier_task
        await super().close()

    def access(self, interaction: discord.Interaction) -> Access:
        """The access level of the user behind an interaction."""
        roles = [r.id for r in getattr(interaction.user, "roles", [])]
        return access_of(self.settings, interaction.user.id, roles)

    async def authorize(
        self, interaction: discord.Interaction, command: str, needed: Access, details: str = ""
    ) -> bool:
        """Allow or refuse (ephemerally) what needs ``needed``; audit both."""
        allowed = self.access(interaction) >= needed
        what = f"{command} {details}".strip()
        await self.service.history.audit(
            interaction.user.id, interaction.user.name, what, allowed, "" if allowed else "refused"
        )
        if not allowed:
            log.warning(
                "refused /%s for %s (%s)", command, interaction.user.name, interaction.user.id
            )
            await interaction.response.send_message(refusal(command, needed), ephemeral=True)
        return allowed
