"""``swarm doctor`` lists every problem at once and exits 1; a healthy set-up exits 0."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from localdiscord import LocalDiscordServer
from localmodel import LocalModel

from automation.protocol import launch
from bot.discordbot.reach import Reach, reach
from bot.discordbot.settings import DiscordSettings
from core.coordinator.home_lock import CoordinatorLock
from tests.cli.test_doctor_hosts import start_host
from tests.helpers import run_cli, write_agents
from tests.watch.conftest import desktop_agents, watch_xserver, windows  # noqa: F401 - fixtures


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "doctor", env={"SWARM_GUILD_ID": "42"})
    assert result.code == 1, result.out + result.err
    assert "PROBLEM  display      DISPLAY is not set" in result.out
    assert "PROBLEM  coordinator  not running" in result.out
    assert (
        "not set: DISCORD_TOKEN, SWARM_CHANNEL_ID, SWARM_ADMIN_IDS or SWARM_ADMIN_ROLE_IDS"
    ) in result.out
    assert (
        f"ok       database     {tmp_path / 'home' / 'swarm.db'} (created on first use)"
        in result.out
    )
    assert "skipped  AI endpoint" in result.out
    assert result.out.endswith("\n3 problem(s)\n")
    assert not (tmp_path / "home").exists()  # the doctor writes nothing


def test_a_headless_fleet_needs_no_display_and_no_discord_needs_no_discord(
    tmp_path: Path,
) -> None:
    """Issue 53, item 8: agents in tmux, through their protocol or as files need no display
    and no clipboard (before: "PROBLEM display ...: deliveries go to inbox files", false);
    ``--no-discord`` leaves Discord out. A desktop agent without a tmux pane still needs one,
    named."""
    home = tmp_path / "home"
    agents = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "Agent-1", "role": "dev", "delivery": "tmux", "tmux": "swarm-Agent-1:0"},
            {"id": "Agent-2", "role": "dev", "tmux": "swarm-Agent-2:0"},
            {"id": "Agent-3", "role": "qa", "delivery": "protocol", "cli": "gemini"},
            {"id": "Agent-4", "role": "qa", "delivery": "inbox"},
        ],
    )
    start_host(home, "Agent-3", tmp_path)  # its protocol host runs (doctor checks it)
    try:
        with CoordinatorLock(home):
            result = run_cli(home, "doctor", "--no-discord", config=agents)
    finally:
        asyncio.run(launch.stop(home, "Agent-3"))
    assert result.code == 0, result.out + result.err
    assert (
        "skipped  display      DISPLAY is not set; not needed: 2 agent(s) through tmux, "
        "1 agent(s) through their protocol, 1 agent(s) as inbox files\n"
    ) in result.out
    assert "skipped  clipboard    not needed: no agent is delivered on screen" in result.out
    assert "skipped  discord      not checked (--no-discord)" in result.out
    assert result.out.endswith("\nno problems found\n")
    write_agents(
        agents,
        [
            {"id": "Agent-1", "role": "dev"},
            {"id": "Agent-2", "role": "qa", "tmux": "swarm-Agent-2:0"},
        ],
    )
    with CoordinatorLock(home):
        result = run_cli(home, "doctor", "--no-discord", config=agents)
    assert result.code == 1, result.out + result.err
    assert (
        "PROBLEM  display      DISPLAY is not set: Agent-1 (desktop window, no tmux pane) get "
        "inbox files instead"
    ) in result.out
    assert "PROBLEM  discord" not in result.out and result.out.endswith("\n1 problem(s)\n")


async def test_a_healthy_setup_passes_and_a_dead_endpoint_does_not(
    tmp_path: Path,
    watch_xserver: Any,  # noqa: F811
    windows: Any,  # noqa: F811 - the agents' windows, under their points
    desktop_agents: Path,  # noqa: F811
) -> None:
    home = tmp_path / "home"
    env = {
        "DISPLAY": watch_xserver.display,
        "XAUTHORITY": str(watch_xserver.xauthority),
        "SWARM_ADMIN_IDS": "3",
    }
    assert run_cli(home, "task", "add", "make the database", config=desktop_agents).code == 0
    async with LocalModel() as ai, LocalDiscordServer(guild_name="team") as discord:
        channel = discord.add_text_channel("swarm")
        env |= {
            "OPENAI_BASE_URL": ai.openai_url,
            "DISCORD_API_BASE": discord.api_base,
            "DISCORD_TOKEN": discord.token,
            "SWARM_GUILD_ID": str(discord.guild.id),
            "SWARM_CHANNEL_ID": str(channel.id),
        }
        with CoordinatorLock(home):
            result = await asyncio.to_thread(
                run_cli, home, "doctor", config=desktop_agents, env=env
            )
    assert result.code == 0, result.out + result.err
    assert result.out.count("ok       input points  Agent-") == 8
    assert "ok       input points  Agent-1: window 0x" in result.out
    assert "ok       AI endpoint" in result.out and "(1 model(s))" in result.out
    assert "ok       Discord API" in result.out and "guild 'team', channel #swarm" in result.out
    assert result.out.endswith("\nno problems found\n")
    assert discord.token not in result.out + result.err
    dead = run_cli(home, "doctor", "--timeout", "2", config=desktop_agents, env=env)
    assert dead.code == 1 and "PROBLEM  AI endpoint" in dead.out
    assert f"PROBLEM  Discord API   cannot reach {discord.api_base}: " in dead.out
    assert "PROBLEM  coordinator" in dead.out


async def test_discord_reach_says_what_failed(tmp_path: Path) -> None:
    async with LocalDiscordServer(guild_name="team") as server:
        channel = server.add_text_channel("swarm")
        good = DiscordSettings(
            token=server.token,
            guild_id=server.guild.id,
            channel_id=channel.id,
            api_base=server.api_base,
        )
        assert await reach(good, 5) == Reach(
            True, f"logged in as {server.world.bot.name}; guild 'team', channel #swarm"
        )
        for wrong, said in [
            (dataclasses.replace(good, token="sekrit-42"), "refused DISCORD_TOKEN (401): reset"),
            (dataclasses.replace(good, guild_id=123), "guild 123 is not visible (404): invite"),
            (dataclasses.replace(good, channel_id=456), "channel 456 is not visible (404): check"),
        ]:
            found = await reach(wrong, 5)
            assert not found.ok and said in found.detail, found
            assert "sekrit" not in found.detail and server.token not in found.detail


def test_a_readable_settings_file_with_a_secret_and_an_open_home_are_warned_about(
    tmp_path: Path,
) -> None:
    """Issue 23, item 13: the secret's name, never its value; chmod says the fix."""
    user = tmp_path / "xdg" / "swarm" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('lease = 300\ndiscord_token = "hush-123"\n')
    user.chmod(0o644)
    home = tmp_path / "home"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    found = run_cli(home, "doctor", env=env)
    assert (
        f"warning  permissions  {user} holds discord_token and is readable by others "
        f"(mode 644): chmod 600 {user}\n"
    ) in found.out, found.out
    assert "hush-123" not in found.out + found.err
    assert found.out.endswith(" problem(s), 1 warning(s)\n")
    user.chmod(0o600)
    fixed = run_cli(home, "doctor", env=env)
    assert (
        "ok       permissions  the home and settings files with secrets are private\n" in fixed.out
        and "warning" not in fixed.out
    )
    user.write_text("lease = 300\n")  # no secret: its mode is its owner's business
    user.chmod(0o644)
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    opened = run_cli(home, "doctor", env=env)
    assert opened.out.count("warning  permissions") == 1
    assert (
        f"warning  permissions  {home} is open to others (mode 755): chmod 700 {home}\n"
        in opened.out
    )


def test_the_secrets_a_settings_file_holds_are_named_not_shown(tmp_path: Path) -> None:
    from bot.cli.doctor import _secrets_in

    user = tmp_path / "config.toml"
    user.write_text(
        'openai_api_key = "sk-1"\ndatabase_url = "postgresql://me:pw@db/swarm"\n'
        'discord_token = ""\n'
    )
    assert _secrets_in(user) == ["openai_api_key", "database_url"]
    user.write_text('database_url = "postgresql://me@db/swarm"\n')  # no password in it
    assert _secrets_in(user) == []
    dotenv = tmp_path / ".env"
    dotenv.write_text("DISCORD_TOKEN=abc\nSWARM_DATABASE_URL=postgresql://me:pw@db/x\n")
    assert _secrets_in(dotenv) == ["DISCORD_TOKEN", "SWARM_DATABASE_URL"]
