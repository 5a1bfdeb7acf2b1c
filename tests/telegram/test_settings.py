"""Telegram's keys from the environment or the user config file (``telegram_bot_token``
...), checked in one line each; not configured, ``swarm run`` starts Discord alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Builder
from bot.config import Config
from bot.config_file import layered_environment
from bot.telegram.settings import TELEGRAM_API
from core.errors import ConfigError

KEYS = {
    "TELEGRAM_BOT_TOKEN": "123:secret",
    "SWARM_TELEGRAM_CHAT_ID": "-1001234",
    "SWARM_TELEGRAM_ADMIN_IDS": "42, 43",
}


def test_the_keys_from_the_environment() -> None:
    settings = Config(KEYS).telegram
    assert (settings.chat_id, settings.admin_ids, settings.api_url) == (
        -1001234,
        frozenset({42, 43}),
        TELEGRAM_API,
    )
    assert "secret" not in repr(settings)
    settings.require_connection()
    assert Config(KEYS | {"TELEGRAM_API_URL": "http://127.0.0.1:1/bot/"}).telegram.api_url == (
        "http://127.0.0.1:1"
    )


def test_the_keys_from_the_user_config_file(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text(
        'telegram_bot_token = "123:secret"\ntelegram_chat_id = -1001234\n'
        "telegram_admin_ids = [42, 43]\n",
        encoding="utf-8",
    )
    env, sources = layered_environment(tmp_path / ".env", user, environ={})
    settings = Config(env, sources=sources).telegram
    assert settings.configured and settings.admin_ids == frozenset({42, 43})
    assert sources["TELEGRAM_BOT_TOKEN"] == "user config"


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("SWARM_TELEGRAM_CHAT_ID", "@mygroup", "must be a Telegram chat id"),
        ("SWARM_TELEGRAM_ADMIN_IDS", "42, boss", "must be Telegram user ids"),
        ("TELEGRAM_API_URL", "api.telegram.org", r"must be an http\(s\) URL"),
    ],
)
def test_a_bad_value_is_one_line_naming_it(name: str, value: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said) as refused:
        _ = Config(KEYS | {name: value}).telegram
    assert name in str(refused.value) and "\n" not in str(refused.value)


def test_without_an_admin_or_a_chat_it_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="SWARM_TELEGRAM_ADMIN_IDS"):
        Config(KEYS | {"SWARM_TELEGRAM_ADMIN_IDS": ""}).telegram.require_connection()
    with pytest.raises(ConfigError, match=r"SWARM_TELEGRAM_CHAT_ID not set: .*BotFather"):
        Config(KEYS | {"SWARM_TELEGRAM_CHAT_ID": ""}).telegram.require_connection()


def test_swarm_run_starts_each_front_end_configured() -> None:
    discord = {"DISCORD_TOKEN": "d", "SWARM_GUILD_ID": "1", "SWARM_CHANNEL_ID": "2"}
    names = [run.name for run in Builder(Config(discord)).front_ends()]
    assert names == ["Discord"]
    assert [run.name for run in Builder(Config(KEYS)).front_ends()] == ["Telegram"]
    both = [run.name for run in Builder(Config(discord | KEYS)).front_ends()]
    assert both == ["Discord", "Telegram"]
    assert [run.name for run in Builder(Config({})).front_ends()] == ["Discord"]  # says what
