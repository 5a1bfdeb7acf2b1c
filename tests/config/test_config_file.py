"""Settings from the user config file (platformdirs) and ``swarm config show``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from automation.tmux_sessions import NOT_INTERACTIVE
from bot.config import Config
from bot.config_file import layered_environment, read_user_config
from bot.settings_index import every_setting
from core.errors import ConfigError
from tests.helpers import ROOT, run_cli

KNOWN = tuple(every_setting())


def _user_config(tmp_path: Path, text: str) -> dict[str, str]:
    folder = tmp_path / "xdg" / "swarm"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(text, encoding="utf-8")
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def test_layers_env_over_dotenv_over_user_file(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text(
        'home = "~/agents/swarm"\nlease = 300\nnotify = "quiet"\n'
        'admin_ids = [1, 2]\ndiscord_token = "from-file"\n'
    )
    dotenv = tmp_path / ".env"
    dotenv.write_text("SWARM_LEASE=120\n")
    env, sources = layered_environment(dotenv, user, {"SWARM_NOTIFY": "verbose"})
    config = Config(env, sources=sources)
    assert config.core.home == Path("~/agents/swarm").expanduser()
    assert config.core.lease_s == 120 and sources["SWARM_LEASE"] == ".env"
    assert config.discord.notify == "verbose" and sources["SWARM_NOTIFY"] == "env"
    assert config.discord.admin_ids == {1, 2} and sources["SWARM_ADMIN_IDS"] == "user config"
    assert config.discord.token == "from-file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("leese = 3\n", "unknown setting 'leese'"),
        ("lease = {a = 1}\n", "lease must be a string, a number or a list"),
        ("lease = \n", "not valid TOML"),
    ],
)
def test_a_bad_user_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(f"{path}: ") + ".*" + re.escape(message)):
        read_user_config(path)


def test_every_setting_the_code_reads_is_known() -> None:
    names = re.compile(r'"((?:SWARM|DISCORD|OPENAI|GITHUB|TELEGRAM|SLACK)_[A-Z_0-9]+)"')
    read = {
        name
        for folder in ("bot", "core", "automation")
        for path in (ROOT / folder).rglob("*.py")
        for name in names.findall(path.read_text())
    }
    # the CI markers swarm leaves out of its agents' environment are no settings of its own,
    # nor the variables an agent CLI reads that swarm's AI client does not (Aider's LiteLLM:
    # its base URL, which a sandbox's gateway sets: core/clis/aider)
    theirs = {"SWARM_REQUIRE_XVFB", "OPENAI_API_BASE"}
    assert read - theirs - set(NOT_INTERACTIVE) == set(KNOWN)


def test_config_show_names_each_source_and_hides_secrets(tmp_path: Path) -> None:
    env = _user_config(
        tmp_path, f'home = "{tmp_path / "from-file"}"\nlease = 300\ndiscord_token = "hush-123"\n'
    )
    env |= {"SWARM_NOTIFY": "quiet", "OPENAI_BASE_URL": "http://user:pw@models.local/v1"}
    result = run_cli(tmp_path / "ignored", "config", "show", "--as", "Agent-2", env=env)
    assert result.code == 0, result.err
    lines = {line.split()[0]: line for line in result.out.splitlines() if line.strip()}
    assert lines["SWARM_HOME"].endswith("(env)")  # run_cli sets SWARM_HOME
    assert lines["SWARM_LEASE"].split()[1:] == ["300", "(user", "config)"]
    assert lines["SWARM_NOTIFY"].split()[1:] == ["quiet", "(env)"]
    assert lines["SWARM_AGENT"].split()[1:] == ["Agent-2", "(flag)"]
    assert lines["SWARM_MAX_ATTEMPTS"].split()[1:] == ["3", "(default)"]
    assert "hush-123" not in result.out and "pw@" not in result.out
    assert lines["DISCORD_TOKEN"].split()[1:] == ["(set,", "hidden)", "(user", "config)"]
    shown = json.loads(run_cli(tmp_path / "ignored", "config", "show", "--json", env=env).out)
    assert {"name": "SWARM_LEASE", "value": "300", "source": "user config"} in shown["settings"]
    assert shown["files"]["user_config_found"] is True


def test_the_user_file_points_an_agent_terminal_at_the_right_home(tmp_path: Path) -> None:
    home = tmp_path / "agents-home"
    env = _user_config(tmp_path, f'home = "{home}"\n')
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "task", "add", "from anywhere"],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )  # no SWARM_HOME, no .env: an agent's project folder
    assert proc.returncode == 0, proc.stderr
    assert (home / "swarm.db").is_file()


def test_config_show_prints_every_default_value(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "config", "show", env={"SWARM_STALL_AFTER": "900"})
    assert result.code == 0, result.err
    assert "(built-in)" not in result.out
    lines = {
        line.split()[0]: line.split(None, 1)[1]
        for line in result.out.splitlines()
        if line.split() and line.split()[0] in KNOWN
    }
    assert set(KNOWN) <= set(lines)
    assert lines["SWARM_LEASE"] == "300  (default)"
    assert lines["SWARM_REASSIGN_AFTER"] == "1800  (default)"
    assert lines["SWARM_STALL_AFTER"] == "900  (env)"
    assert lines["SWARM_LOG_MAX_BYTES"] == "10000000  (default)"
    assert lines["SWARM_WEB_PORT"] == "8765  (default)"
    assert lines["SWARM_DATABASE_URL"].startswith(f"(none: SQLite {tmp_path / 'home'}")
    assert lines["DISCORD_TOKEN"] == "(not set)  (default)"


def test_config_show_names_an_invalid_value_and_still_shows_the_defaults(tmp_path: Path) -> None:
    shown = json.loads(
        run_cli(tmp_path / "h", "config", "show", "--json", env={"SWARM_LEASE": "soon"}).out
    )
    values = {row["name"]: row["value"] for row in shown["settings"]}
    assert values["SWARM_LEASE"] == "soon" and values["SWARM_MAX_ATTEMPTS"] == "3"
    assert shown["invalid"] == ["SWARM_LEASE must be a number of seconds, got 'soon'"]
