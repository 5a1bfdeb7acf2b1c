"""Commands and buttons declare who may use them; the tree checks it in one place."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.app import Builder
from bot.config import Config
from bot.discordbot import views
from bot.discordbot.access import ADMIN_ONLY, Access, needed_for
from bot.discordbot.ai_commands import PlanButton
from bot.discordbot.prompt_posts import PromptButton
from bot.discordbot.settings import DiscordSettings
from core.service.swarm import SwarmService
from tests.discord.conftest import World, slash

# docs/discord.md: admins only may use /pause, /resume, /task assign,
# /agent pause|resume|stop|reset, /task merge, /task review, /github import, /screenshot, the
# Reassign and Merge buttons and the prompts' option buttons.
ADMIN_COMMANDS = {
    "pause",
    "resume",
    "task assign",
    "agent pause",
    "agent resume",
    "agent stop",
    "screenshot",
    "task merge",
    "task review",
    "agent reset",
    "github import",
}
ADMIN_BUTTONS = {"reassign"}


async def test_the_tree_declares_exactly_the_admin_commands(service: SwarmService) -> None:
    builder = Builder(Config({}, core=service.settings, discord=DiscordSettings(token="unused")))
    async with builder.ai(service) as ai:
        bot = builder.bot(service, ai)
        try:
            commands = [c for c in bot.tree.walk_commands() if isinstance(c, app_commands.Command)]
            admin = {c.qualified_name for c in commands if needed_for(c) is Access.admin}
            assert admin == ADMIN_COMMANDS
            assert len(commands) > len(ADMIN_COMMANDS)  # the everyday ones are there, for users
        finally:
            await bot.close()


def test_buttons_declare_their_access() -> None:
    admin = {action for action, (_, _, needed) in views.ACTIONS.items() if needed is Access.admin}
    assert admin == ADMIN_BUTTONS
    assert PlanButton.needed is Access.user
    assert PromptButton.needed is Access.admin  # a permission prompt's options


def test_a_group_marked_admin_covers_its_subcommands() -> None:
    group = app_commands.Group(name="danger", description="admin things", extras=ADMIN_ONLY)

    @group.command(name="wipe", description="wipe")
    async def wipe(interaction: discord.Interaction) -> None:
        raise AssertionError("never called")

    assert needed_for(wipe) is Access.admin
    assert needed_for(None) is Access.user


async def test_a_new_admin_command_is_checked_by_its_declaration(world: World) -> None:
    @world.bot.tree.command(
        name="halt",
        description="a command no list names",
        extras=ADMIN_ONLY,
        guild=discord.Object(world.server.guild.id),
    )
    async def halt(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("halted")

    await world.bot.tree.sync(guild=discord.Object(world.server.guild.id))
    await world.server.wait_for_commands("halt")
    refused = await slash(world, world.user, "halt")
    assert refused.data["content"] == "/halt is for swarm admins only."
    assert (await slash(world, world.admin, "halt")).data["content"] == "halted"
