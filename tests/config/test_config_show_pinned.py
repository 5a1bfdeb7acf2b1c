"""``swarm config show`` pinned for fixed environments: its lines (names, order, values,
sources, the ``invalid:`` lines) stay the same whatever declares the settings.

The expected outputs are files beside this one (``config_show_*.txt``), written from the
command's output before the settings were declared once (issue 42, item 5); paths are
replaced by ``<tmp>`` and ``<root>``. Regenerate one deliberately with
``SWARM_PIN_WRITE=1 pytest tests/config/test_config_show_pinned.py`` and read the diff.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from core.settings import bundled_agents_file
from tests.helpers import ROOT, run_cli

HERE = Path(__file__).parent
# every setting that is not SWARM_*: set here, so the caller's own values never show
UNPREFIXED = {
    "DISCORD_TOKEN": "discord-secret-123",
    "DISCORD_API_BASE": "http://discord.local/api/v10",
    "OPENAI_API_KEY": "sk-secret-4567",
    "OPENAI_BASE_URL": "http://user:pw@models.local/v1",
    "GITHUB_TOKEN": "ghp_secret890",
    "TELEGRAM_BOT_TOKEN": "123:telegram-secret",
    "TELEGRAM_API_URL": "http://telegram.local",
    "SLACK_BOT_TOKEN": "xoxb-secret-1234",
    "SLACK_APP_TOKEN": "xapp-secret-5678",
    "SLACK_API_URL": "http://slack.local/api/",
}
SET = {
    "SWARM_DATABASE_URL": "postgresql://swarm:hunter2@db.local/swarm",
    "SWARM_LEASE": "120",
    "SWARM_KEEP_DAYS": "30",
    "SWARM_RESERVATIONS": "strict",
    "SWARM_GUILD_ID": "111",
    "SWARM_ADMIN_IDS": "3, 2,1",
    "SWARM_NOTIFY": "quiet",
    "SWARM_AI_PRICES": "my-model=1/2",
    "SWARM_AI_BUDGET": "$5",
    "SWARM_DAILY_SUMMARY": "off",
    "SWARM_LIMIT_HANDOFF": "off",
    "SWARM_WEB": "off",
    "SWARM_WEB_HOSTS": "a.example,b.example",
    "SWARM_GITHUB_WEBHOOK_SECRET": "whsec",
    "SWARM_MCP_TOKEN": "mcp-token",
    "SWARM_LOG_FILE": "",
}
USER_FILE = 'lease = 300\nmax_attempts = 5\n[github]\nrepo = "o/n"\ntoken = "from-file"\n'
UNSET = {name: "" for name in UNPREFIXED}  # set but empty: shown as set, parsed as unset


def _run(tmp_path: Path, env: dict[str, str], *args: str, user_file: str = USER_FILE) -> str:
    folder = tmp_path / "xdg" / "swarm"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(user_file, encoding="utf-8")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), **env}
    result = run_cli(tmp_path / "home", "config", "show", *args, env=env)
    assert result.code == 0, result.err
    out = result.out.replace(str(tmp_path), "<tmp>")
    out = out.replace(str(bundled_agents_file()), "<bundled agents.toml>")
    return out.replace(str(ROOT), "<root>")


def _check(name: str, shown: str) -> None:
    path = HERE / f"config_show_{name}.txt"
    if os.environ.get("SWARM_PIN_WRITE"):
        path.write_text(shown, encoding="utf-8")
    assert shown == path.read_text(encoding="utf-8")


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a .env in the repository would show")
def test_config_show_with_values_from_every_layer(tmp_path: Path) -> None:
    _check("values", _run(tmp_path, UNPREFIXED | SET, "--as", "Agent-2"))


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a .env in the repository would show")
def test_config_show_of_the_defaults_with_bad_values(tmp_path: Path) -> None:
    agents = tmp_path / "agents.toml"
    shutil.copyfile(bundled_agents_file(), agents)
    bad = {"SWARM_LEASE": "soon", "SWARM_WEB_PORT": "x", "SWARM_NOTIFY": "loud"}
    _check("defaults", _run(tmp_path, UNSET | bad, "--config", str(agents)))


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a .env in the repository would show")
def test_config_show_of_every_default_with_values_out_of_range(tmp_path: Path) -> None:
    bad = {"SWARM_MAX_ATTEMPTS": "0", "SWARM_WEB_BODY_MAX": "1", "SWARM_GITHUB_DRAFT": "maybe"}
    bad |= {"SWARM_KEEP_DAYS": "inf", "SWARM_AI_RETRIES": "2.5", "SWARM_GUILD_ID": "me"}
    _check("plain", _run(tmp_path, UNSET | bad, user_file=""))


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a .env in the repository would show")
def test_config_show_json_has_the_same_rows(tmp_path: Path) -> None:
    shown = json.loads(_run(tmp_path, UNPREFIXED | SET, "--json"))
    text = _run(tmp_path, UNPREFIXED | SET)
    rows = [line.split(None, 1)[0] for line in text.split("\n\n")[0].splitlines()]
    assert [row["name"] for row in shown["settings"]] == rows
    _check("json", json.dumps(shown, indent=1, sort_keys=True) + "\n")
