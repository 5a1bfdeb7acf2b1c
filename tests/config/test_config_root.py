"""The composition root reads the configuration once; nothing below it reads the environment."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from bot.config import Config
from core.errors import ConfigError
from core.watch.settings import WatchSettings
from tests.helpers import ROOT, run_cli


def test_dotenv_is_read_without_touching_the_environment_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DISCORD_TOKEN=from-dotenv\nSWARM_GUILD_ID=42\nSWARM_LEASE=90\n")
    monkeypatch.setenv("SWARM_LEASE", "120")  # the real environment, as a user would set it
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    env = read_environment(dotenv)
    assert "DISCORD_TOKEN" not in os.environ  # read, not loaded into the process
    config = Config(env | {"SWARM_HOME": str(tmp_path / "home")})
    assert config.discord.token == "from-dotenv" and config.discord.guild_id == 42
    assert config.core.lease_s == 120


def test_sections_are_parsed_once_on_first_use_and_check_parses_them_all(tmp_path: Path) -> None:
    config = Config({"SWARM_HOME": str(tmp_path), "SWARM_STALL_AFTER": "soon"})
    assert config.core.home == tmp_path and config.core is config.core
    with pytest.raises(ConfigError, match="SWARM_STALL_AFTER must be a number of seconds"):
        config.check()
    given = config.replace(watch=WatchSettings(interval_s=1))  # sections can be passed in
    assert given.check().watch.interval_s == 1 and given.core.home == tmp_path
    with pytest.raises(TypeError, match="unknown config section"):
        Config({}, dashboard=1)


def test_a_bad_watcher_setting_stops_run_not_the_agents_report(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"SWARM_STALL_AFTER": "ten minutes"}
    assert run_cli(home, "task", "list", env=env).code == 0
    with socket.socket() as taken:  # the dashboard's port is busy: the setting is named first
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli(
            home, "run", "--no-discord", env=env | {"SWARM_WEB_PORT": str(taken.getsockname()[1])}
        )
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "swarm: error: SWARM_STALL_AFTER must be a number of seconds, got 'ten minutes'\n"
    )
    assert not (home / "coordinator.lock").exists()  # stopped before it took anything


def test_nothing_below_the_root_reads_the_environment() -> None:
    """No setting is read below the root; handing the whole environment on to a child
    process (``{**os.environ, ...}``, git's push with the token added) reads none."""
    reads = re.compile(r"os\.environ|os\.getenv|load_dotenv")
    handed_on = re.compile(r"\{\*\*os\.environ, ")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "core").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(handed_on.sub("", line))
    ]
    assert found == []


def test_notify_level_is_a_discord_setting_refused_when_unknown(tmp_path: Path) -> None:
    assert Config({}).discord.notify == "normal"
    assert Config({"SWARM_NOTIFY": " Quiet "}).discord.notify == "quiet"
    with pytest.raises(
        ConfigError, match="SWARM_NOTIFY must be one of quiet, normal, verbose, got 'loud'"
    ):
        Config({"SWARM_NOTIFY": "loud"}).discord  # noqa: B018 - parsing is the test


def read_environment(dotenv: Path = Path(".env")) -> dict[str, str]:
    """``os.environ`` over the values of ``dotenv`` (when the file exists)."""
    values: dict[str, str] = {}
    if dotenv.is_file():
        from dotenv import dotenv_values

        values = {k: v for k, v in dotenv_values(dotenv).items() if v is not None}
    return {**values, **os.environ}
