"""Telegram's settings from an environment mapping; the token is never printed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.discordbot.settings import DISCORD
from core.errors import ConfigError
from core.settings.envvars import Setting, text

TELEGRAM_API = "https://api.telegram.org"
FRONT_END = "telegram"  # its posts' rows, its notifier loops' cursors (``telegram:urgent``)
HOW_TO_GET_A_TOKEN = (
    "set TELEGRAM_BOT_TOKEN (talk to @BotFather: /newbot), SWARM_TELEGRAM_CHAT_ID (the group "
    "the bot posts in) and SWARM_TELEGRAM_ADMIN_IDS (your Telegram user id) in the "
    "environment or .env; or try it without a bot: swarm run --local-telegram"
)


@dataclass(frozen=True)
class TelegramSettings:
    """Who the bot is, where it posts, and who may decide."""

    token: str | None = field(default=None, repr=False)
    chat_id: int | None = None
    admin_ids: frozenset[int] = frozenset()
    api_url: str = TELEGRAM_API
    notify: str = "normal"  # SWARM_NOTIFY, as Discord's posts read it

    @property
    def configured(self) -> bool:
        """Whether ``swarm run`` starts Telegram (its token is set)."""
        return bool(self.token)

    def require_connection(self) -> None:
        """ConfigError saying what to set when the bot cannot run."""
        missing = [
            name
            for name, value in (
                ("TELEGRAM_BOT_TOKEN", self.token),
                ("SWARM_TELEGRAM_CHAT_ID", self.chat_id),
            )
            if not value
        ]
        if missing:
            raise ConfigError(f"{', '.join(missing)} not set: {HOW_TO_GET_A_TOKEN}")
        if not self.admin_ids:
            raise ConfigError(
                "no Telegram admin configured: set SWARM_TELEGRAM_ADMIN_IDS (your Telegram "
                "user id), or nobody could decide from Telegram"
            )


def _chat_id(name: str, raw: str) -> int:
    value = raw.strip()
    if not value.lstrip("-").isdigit():
        raise ConfigError(f"{name} must be a Telegram chat id (a number, -100... for a group)")
    return int(value)


def _user_ids(name: str, raw: str) -> frozenset[int]:
    parts = raw.replace(",", " ").split()
    bad = [part for part in parts if not part.isdigit()]
    if bad:
        raise ConfigError(f"{name} must be Telegram user ids separated by commas, got {bad[0]!r}")
    return frozenset(int(part) for part in parts)


def _api_url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    if not value.startswith(("https://", "http://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    return value.removesuffix("/bot")


# Telegram's declarations: Config.telegram builds TelegramSettings from them (SWARM_NOTIFY is
# Discord's declaration: ``notify_level``).
TELEGRAM: tuple[Setting, ...] = (
    Setting(
        "TELEGRAM_BOT_TOKEN",
        "token",
        None,
        text,
        "the Telegram bot's token (BotFather)",
        secret=True,
        unset="(not set)",
    ),
    Setting("SWARM_TELEGRAM_CHAT_ID", "chat_id", None, _chat_id, "the Telegram chat to post in"),
    Setting(
        "SWARM_TELEGRAM_ADMIN_IDS",
        "admin_ids",
        frozenset(),
        _user_ids,
        "Telegram users who may decide",
    ),
    Setting(
        "TELEGRAM_API_URL",
        "api_url",
        TELEGRAM_API,
        _api_url,
        "the Bot API server (a self-hosted one)",
    ),
)


def notify_level(env: Mapping[str, str]) -> str:
    """``SWARM_NOTIFY`` as Discord's declaration reads it: one level for every front end (a
    bad value is Discord's section's error, said once; Telegram's posts are normal then)."""
    (declared,) = (s for s in DISCORD if s.name == "SWARM_NOTIFY")
    try:
        return str(declared.read(env))
    except ConfigError:
        return "normal"
