"""What the command modules, buttons, notifier and campaign posts share: :class:`Bot`, the part
of :class:`bot.discordbot.client.SwarmBot` they use (so none of them imports ``client.py``,
which imports them), the bot of an interaction (:func:`bot_of`), who acts (:func:`actor`) and
the types of a built command and of a completer (:mod:`bot.discordbot.completers`), and the
name Discord's posts and notifier loops are kept under (``FRONT_END``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.discordbot.access import Access
    from bot.discordbot.settings import DiscordSettings
    from core.github.settings import GitHubSettings
    from core.service.ai import AIBook
    from core.service.swarm import SwarmService

FRONT_END = "discord"  # its posts' rows, its notifier loops' cursors (``discord:urgent``)
Choice = app_commands.Choice
SlashCommand = app_commands.Command[Any, Any, None]
Completer = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, list[Choice[str]]]]


class Bot(Protocol):
    """The Discord bot as its commands, buttons and notifier see it (``SwarmBot``)."""

    @property
    def service(self) -> SwarmService:
        """The swarm's service: every command is one call to it."""
        ...

    @property
    def settings(self) -> DiscordSettings:
        """The guild, channels, admins and notify level."""
        ...

    @property
    def ai(self) -> AIBook:
        """Plans, summaries and usage (``/plan``, ``/summary``, ``/usage``)."""
        ...

    @property
    def github(self) -> GitHubSettings:
        """GitHub in the loop: a task's PR is merged there (``/task merge``)."""
        ...

    @property
    def tree(self) -> app_commands.CommandTree[Any]:
        """The slash-command tree the command modules add to."""
        ...

    async def authorize(
        self, interaction: discord.Interaction, command: str, needed: Access, details: str = ""
    ) -> bool:
        """Allow or refuse (ephemerally) what needs ``needed``; audit both."""
        ...

    async def wait_until_ready(self) -> None:
        """Return once the bot is logged in with its cache filled."""
        ...

    def get_channel(self, id: int, /) -> Any:
        """A channel from the cache; None when it is not there."""
        ...

    async def fetch_channel(self, channel_id: int, /) -> Any:
        """A channel from Discord."""
        ...

    def get_partial_messageable(self, id: int) -> discord.PartialMessageable:
        """A channel or thread to send to or edit in, by id, without a request."""
        ...


def bot_of(interaction: discord.Interaction) -> Bot:
    """The bot an interaction came to (a completer's way to the service)."""
    return interaction.client  # type: ignore[return-value]


def actor(interaction: discord.Interaction) -> str:
    """How a Discord user is named in events."""
    return f"discord:{interaction.user.name}"
