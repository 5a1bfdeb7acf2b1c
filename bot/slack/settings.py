"""Slack's settings from an environment mapping; the tokens are never printed."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import ConfigError
from core.settings.envvars import Parser, Setting

SLACK_API = "https://slack.com/api/"
HOW_TO_SET_UP = (
    "set SLACK_BOT_TOKEN (xoxb-...), SLACK_APP_TOKEN (xapp-..., Socket Mode), "
    "SWARM_SLACK_CHANNEL_ID and SWARM_SLACK_ADMIN_IDS (docs/slack.md: the app's manifest); "
    "or try it without a Slack app: swarm run --local-slack"
)


@dataclass(frozen=True)
class SlackSettings:
    """Who the app is, where it posts, who may decide."""

    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    channel_id: str | None = None
    admin_ids: frozenset[str] = frozenset()
    api_url: str = SLACK_API
    notify: str = "normal"  # SWARM_NOTIFY, as Discord's (Config.slack passes it)
    reconnect_first_s: float = 1.0  # wait after a failed connection, doubled per failure
    reconnect_max_s: float = 60.0  # ...up to this (not settings: tests pass their own)

    @property
    def configured(self) -> bool:
        """True when a token or the channel is set: ``swarm run`` then starts Slack (and
        checks the rest)."""
        return bool(self.bot_token or self.app_token or self.channel_id)

    def require_connection(self) -> None:
        """ConfigError saying what to set when the app cannot connect."""
        missing = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.bot_token),
                ("SLACK_APP_TOKEN", self.app_token),
                ("SWARM_SLACK_CHANNEL_ID", self.channel_id),
            )
            if not value
        ]
        if missing:
            raise ConfigError(f"{', '.join(missing)} not set: {HOW_TO_SET_UP}")
        if not self.admin_ids:
            raise ConfigError(
                "no Slack admin configured: set SWARM_SLACK_ADMIN_IDS (your Slack member id, "
                "U...), or nobody could decide from Slack"
            )


def _slack_id(name: str, raw: str) -> str:
    value = raw.strip()
    if not (value[:1].isalpha() and value.isalnum() and value.isupper()):
        raise ConfigError(f"{name} must be a Slack id (C..., U...), got {value[:40]!r}")
    return value


def _slack_ids(name: str, raw: str) -> frozenset[str]:
    return frozenset(_slack_id(name, part) for part in raw.replace(",", " ").split())


def _token(prefix: str) -> Parser:
    def parse(name: str, raw: str) -> str:
        value = raw.strip()
        if not value.startswith(prefix):
            raise ConfigError(f"{name} must start with {prefix} (set, hidden)")
        return value

    return parse


def _api_url(name: str, raw: str) -> str:
    value = raw.strip()
    if not value.startswith(("https://", "http://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {value[:80]!r}")
    return value.rstrip("/") + "/"


# Slack's declarations: Config.slack builds SlackSettings from them (bot/settings_index.py
# lists them for the user config file and ``swarm config show``).
SLACK: tuple[Setting, ...] = (
    Setting(
        "SLACK_BOT_TOKEN",
        "bot_token",
        None,
        _token("xoxb-"),
        "the Slack app's bot token",
        secret=True,
        unset="(not set)",
    ),
    Setting(
        "SLACK_APP_TOKEN",
        "app_token",
        None,
        _token("xapp-"),
        "the Slack app-level token (Socket Mode)",
        secret=True,
        unset="(not set)",
    ),
    Setting("SWARM_SLACK_CHANNEL_ID", "channel_id", None, _slack_id, "the Slack channel"),
    Setting(
        "SWARM_SLACK_ADMIN_IDS", "admin_ids", frozenset(), _slack_ids, "Slack users who decide"
    ),
    Setting("SLACK_API_URL", "api_url", SLACK_API, _api_url, "Slack's Web API"),
)
