"""What Discord sees of the bot's commands, pinned: the tree as the local Discord stores it
after the bot's sync, and what every autocompleted option offers, against JSON fixtures made
from the code before the commands became classes (issue 42, item 5).

``SWARM_WRITE_COMMAND_FIXTURES=1`` rewrites the fixtures (and skips): review the diff, since
a changed fixture is a change users see in Discord."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from bot.app import Builder
from bot.config import Config
from bot.discordbot.client import SwarmBot
from bot.discordbot.settings import DiscordSettings
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.discord.conftest import World

FIXTURES = Path(__file__).parent.parent / "data" / "discord"
VOLATILE = ("id", "application_id", "version", "guild_id")  # Discord's, new on every sync
TYPED = ("", "t", "T-1,", "a")  # what a user has typed when the choices are asked for


def _check(name: str, found: Any) -> None:
    path = FIXTURES / name
    text = json.dumps(found, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("SWARM_WRITE_COMMAND_FIXTURES"):
        path.write_text(text, encoding="utf-8")
        pytest.skip(f"{path} rewritten")
    assert found == json.loads(path.read_text(encoding="utf-8"))


def _synced(world: World) -> list[dict[str, Any]]:
    scopes = (world.server.guild.id, None)
    synced = [c for s in scopes for c in world.server.commands.in_scope(s)]
    return [{k: v for k, v in c.items() if k not in VOLATILE} for c in synced]


async def test_discord_receives_the_same_command_tree(world: World) -> None:
    _check("command_tree.json", _synced(world))


def _autocompleted(command: dict[str, Any]) -> list[tuple[str, str]]:
    """(qualified name, option) of every autocompleted option of a command."""
    found: list[tuple[str, str]] = []
    for option in command.get("options", []):
        if option.get("type") == 1:  # a subcommand
            name = f"{command['name']} {option['name']}"
            found += [(name, o["name"]) for o in option.get("options", []) if o.get("autocomplete")]
        elif option.get("autocomplete"):
            found.append((command["name"], option["name"]))
    return found


async def _tasks_in_every_state(world: World) -> None:
    service = world.service
    for title in ("to finish", "to fail", "to cancel", "active one"):
        await service.tasks.create(TaskSpec(title), "test")
    await service.queue.assign_next()
    await service.tasks.complete("T-1", "test")
    await service.queue.assign_next()
    await service.tasks.fail("T-2", "test", "broken")
    await service.tasks.cancel("T-3", "test")
    await service.queue.assign_next()
    await service.tasks.create(TaskSpec("ready one"), "test")
    await service.tasks.create(TaskSpec("blocked one", after=(4,)), "test")
    states = [t.status.value for t in sorted(await service.tasks.newest(), key=lambda t: t.id)]
    assert states == ["done", "failed", "cancelled", "assigned", "ready", "blocked"]


async def test_every_autocompleted_option_offers_the_same_choices(world: World) -> None:
    await _tasks_in_every_state(world)
    offered: dict[str, dict[str, list[Any]]] = {}
    for command in _synced(world):
        for name, option in _autocompleted(command):
            offered[f"{name} {option}"] = {
                typed: await world.server.invoke_autocomplete(world.admin, name, option, typed)
                for typed in TYPED
            }
    assert len(offered) > 10
    _check("autocomplete.json", offered)


def _role_choices(bot: SwarmBot) -> dict[str, list[str]]:
    """The roles /broadcast and /task create offer, as the bot's tree would sync them."""
    found = {}
    for name in ("broadcast", "task create"):
        command = bot.tree.get_command(name.split()[0])
        if isinstance(command, app_commands.Group):
            command = command.get_command(name.split()[1])
        assert isinstance(command, app_commands.Command)
        role = next(o for o in command.to_dict(bot.tree)["options"] if o["name"] == "role")
        found[name] = [c["value"] for c in role["choices"]]
    return found


async def test_each_bot_offers_its_own_configured_roles(
    service: SwarmService, tmp_path: Path
) -> None:
    # the roles are set on the commands built per bot: a class-level declaration shared by
    # every bot would make a second bot's roles the first one's too
    home = tmp_path / "other-home"
    home.mkdir()
    (home / "agents.toml").write_text(
        '[[agent]]\nid = "Solo"\nrole = "writer"\ninput = [10, 10]\n', encoding="utf-8"
    )
    other = await SwarmService.open(
        Settings.from_env({"SWARM_HOME": str(home), "SWARM_DATABASE_URL": ""})
    )
    bots = []
    try:
        for svc in (service, other):
            builder = Builder(Config({}, core=svc.settings, discord=DiscordSettings(token="-")))
            async with builder.ai(svc) as ai:
                bots.append(builder.bot(svc, ai))
        first, second = (_role_choices(bot) for bot in bots)
    finally:
        for bot in bots:
            await bot.close()
        await other.close()
    assert second == {"broadcast": ["writer"], "task create": ["writer"]}
    assert first["broadcast"] == first["task create"] == service.roles()
    assert "writer" not in first["broadcast"]
