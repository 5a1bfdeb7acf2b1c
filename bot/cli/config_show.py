"""``swarm config show``: each effective setting and where it came from (secrets hidden)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.output import emit_json
from bot.config_file import DEFAULT, FLAG, KNOWN_SETTINGS, shown_value, user_config_path
from core.errors import ConfigError

if TYPE_CHECKING:
    from bot.config import Config
    from core.service.swarm import SwarmService


def register(sub: Any) -> None:
    """Add ``config show``."""
    p = sub.add_parser("config", help="the settings in effect and where each came from")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    q = csub.add_parser(
        "show",
        help="each setting: value and source (flag, env, .env, "
        "user config, default); secrets are never printed",
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_config_show, no_service=True)


def settings_table(config: Config, args: argparse.Namespace) -> list[dict[str, str]]:
    """One row per known setting: name, shown value, source."""
    rows = []
    for name in KNOWN_SETTINGS:
        value, source = config.env.get(name), config.sources.get(name, DEFAULT)
        if name == "SWARM_CONFIG" and args.config:
            value, source = str(args.config), FLAG
        elif name == "SWARM_AGENT" and args.actor_flag:
            value, source = args.actor, FLAG
        shown = default_value(config, name) if value is None else shown_value(name, value)
        rows.append({"name": name, "value": shown, "source": DEFAULT if value is None else source})
    return rows


def invalid_settings(config: Config) -> list[str]:
    """The one-line error of each section that does not parse (its defaults are shown)."""
    errors = []
    for section in ("core", "discord", "ai", "watch", "gui", "web", "github"):
        try:
            getattr(config, section)
        except ConfigError as exc:
            errors.append(str(exc))
    return errors


def default_value(config: Config, name: str) -> str:
    """The value swarm uses for ``name`` when it is not set (what the parsed settings hold)."""
    from bot.config import Config as Fresh

    try:
        return _DEFAULTS[name](config)
    except ConfigError:  # another setting of its section is invalid: the built-in default
        try:
            kept = ("SWARM_HOME", "SWARM_CONFIG")
            return _DEFAULTS[name](Fresh({k: v for k, v in config.env.items() if k in kept}))
        except ConfigError as exc:
            return f"(invalid: {exc})"


def _num(value: float | None) -> str:
    if value is None:
        return "(none)"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _ids(values: frozenset[int]) -> str:
    return ",".join(str(v) for v in sorted(values)) or "(none)"


def _prices(config: Config) -> str:
    prices = config.ai.prices
    return ", ".join(f"{m}={p.input_per_m:g}/{p.output_per_m:g}" for m, p in prices.items())


def _log_limit(index: int) -> Callable[[Config], str]:
    def value(config: Config) -> str:
        from core.logs.setup import log_rotation

        return _num(log_rotation(config.env)[index])

    return value


_DEFAULTS: dict[str, Callable[[Config], str]] = {
    "SWARM_HOME": lambda c: str(c.core.home),
    "SWARM_CONFIG": lambda c: str(c.core.config_path),
    "SWARM_AGENT": lambda c: c.actor,
    "SWARM_MCP_TOKEN": lambda c: "(not set)",
    "SWARM_LOG_FILE": lambda c: "(none: logs go to stderr)",
    "SWARM_LOG_MAX_BYTES": _log_limit(0),
    "SWARM_LOG_BACKUPS": _log_limit(1),
    "SWARM_MAX_TEXT": lambda c: _num(c.core.max_text),
    "SWARM_LEASE": lambda c: _num(c.core.lease_s),
    "SWARM_MAX_ATTEMPTS": lambda c: _num(c.core.max_attempts),
    "SWARM_RETRY_BACKOFF": lambda c: _num(c.core.retry_backoff_s),
    "SWARM_DELIVERY_ATTEMPTS": lambda c: _num(c.core.delivery_attempts),
    "SWARM_BUSY_TIMEOUT": lambda c: _num(c.core.busy_timeout_s),
    "SWARM_KEEP_DAYS": lambda c: _num(c.core.keep_days),
    "SWARM_LIMIT_BACKOFF": lambda c: _num(c.core.limit_backoff_s),
    "SWARM_APPROVAL_WAIT": lambda c: _num(c.core.approval_wait_s),
    "SWARM_RESERVATIONS": lambda c: c.core.reservations,
    "SWARM_DATABASE_URL": lambda c: f"(none: SQLite {c.core.db_path})",
    "SWARM_FAILOVER": lambda c: _num(c.core.failover_s),
    "DISCORD_TOKEN": lambda c: "(not set)",
    "SWARM_GUILD_ID": lambda c: _num(c.discord.guild_id),
    "SWARM_CHANNEL_ID": lambda c: _num(c.discord.channel_id),
    "SWARM_ALERTS_CHANNEL_ID": lambda c: (
        _num(c.discord.alerts_channel_id) if c.discord.alerts_channel_id else "(the channel)"
    ),
    "SWARM_ALERTS_ROLE_ID": lambda c: _num(c.discord.alerts_role_id),
    "SWARM_ADMIN_IDS": lambda c: _ids(c.discord.admin_ids),
    "SWARM_ADMIN_ROLE_IDS": lambda c: _ids(c.discord.admin_role_ids),
    "SWARM_USER_IDS": lambda c: _ids(c.discord.user_ids),
    "SWARM_USER_ROLE_IDS": lambda c: _ids(c.discord.user_role_ids),
    "SWARM_NOTIFY": lambda c: c.discord.notify,
    "DISCORD_API_BASE": lambda c: c.discord.api_base,
    "OPENAI_API_KEY": lambda c: "(not set)",
    "OPENAI_BASE_URL": lambda c: f"(none: {c.ai.endpoint})",
    "SWARM_MODEL_PLAN": lambda c: c.ai.model_plan,
    "SWARM_MODEL_SUMMARY": lambda c: c.ai.model_summary,
    "SWARM_AI_TIMEOUT": lambda c: _num(c.ai.timeout_s),
    "SWARM_AI_RETRIES": lambda c: _num(c.ai.retries),
    "SWARM_AI_BACKOFF": lambda c: _num(c.ai.backoff_s),
    "SWARM_AI_BUDGET": lambda c: "(no limit)" if c.ai.budget_usd is None else _num(c.ai.budget_usd),
    "SWARM_AI_PRICES": _prices,
    "SWARM_PLAN_MAX_TASKS": lambda c: _num(c.ai.plan_max_tasks),
    "SWARM_PLAN_MAX_CONTEXT": lambda c: _num(c.ai.plan_max_context),
    "SWARM_WATCH_INTERVAL": lambda c: _num(c.watch.interval_s),
    "SWARM_STALL_AFTER": lambda c: _num(c.watch.stall_after_s),
    "SWARM_UNREACHABLE_AFTER": lambda c: _num(c.watch.unreachable_after),
    "SWARM_NUDGE_COOLDOWN": lambda c: _num(c.watch.nudge_cooldown_s),
    "SWARM_MAX_NUDGES": lambda c: _num(c.watch.max_nudges),
    "SWARM_REASSIGN_AFTER": lambda c: _num(c.watch.reassign_after_s),
    "SWARM_DAILY_SUMMARY": lambda c: c.watch.daily_summary or "off",
    "SWARM_LIMIT_HANDOFF": lambda c: (
        "off" if c.watch.limit_handoff_s is None else _num(c.watch.limit_handoff_s)
    ),
    "SWARM_GRACE": lambda c: _num(c.watch.grace_s),
    "SWARM_HUMAN_IDLE": lambda c: _num(c.gui.human_idle_s),
    "SWARM_HUMAN_WAIT": lambda c: _num(c.gui.human_wait_s),
    "SWARM_INPUT_LOCK_TIMEOUT": lambda c: _num(c.gui.lock_timeout_s),
    "SWARM_FOCUS_TIMEOUT": lambda c: _num(c.gui.focus_timeout_s),
    "SWARM_PASTE_TIMEOUT": lambda c: _num(c.gui.paste_timeout_s),
    "SWARM_SUBMIT_TIMEOUT": lambda c: _num(c.gui.submit_timeout_s),
    "SWARM_DELIVERY_STEPS": lambda c: _num(c.gui.steps_s),
    "SWARM_WEB": lambda c: "on" if c.web.enabled else "off",
    "SWARM_WEB_HOST": lambda c: c.web.host,
    "SWARM_WEB_PORT": lambda c: _num(c.web.port),
    "SWARM_WEB_METRICS": lambda c: c.web.metrics,
    "SWARM_WEB_HOSTS": lambda c: ",".join(c.web.hosts) or "(none: localhost and the host)",
    "SWARM_WEB_BODY_MAX": lambda c: _num(c.web.body_max),
    "SWARM_WEB_MAX_CONNECTIONS": lambda c: _num(c.web.max_connections),
    "SWARM_WEB_IDLE_TIMEOUT": lambda c: _num(c.web.idle_timeout),
    "SWARM_MCP_MAX_CALLS": lambda c: _num(c.web.mcp_calls),
    "SWARM_MCP_MAX_WAITS": lambda c: _num(c.web.mcp_waits),
    "SWARM_GITHUB_REPO": lambda c: c.github.repo or "(none: GitHub off)",
    "GITHUB_TOKEN": lambda c: "(not set)",
    "SWARM_GITHUB_LABEL": lambda c: c.github.label,
    "SWARM_GITHUB_API_URL": lambda c: c.github.api_url,
    "SWARM_GITHUB_GIT_URL": lambda c: c.github.git_root,
    "SWARM_GITHUB_POLL": lambda c: _num(c.github.poll_s),
    "SWARM_GITHUB_WEBHOOK_SECRET": lambda c: "(not set: no webhook)",
    "SWARM_GITHUB_BASE": lambda c: c.github.base or "(the repository's default branch)",
    "SWARM_GITHUB_DRAFT": lambda c: "on" if c.github.draft else "off",
    "SWARM_CI_RETRIES": lambda c: _num(c.github.ci_retries),
}


def _files() -> dict[str, Any]:
    user_file = user_config_path()
    return {
        "user_config": str(user_file),
        "user_config_found": user_file.is_file(),
        "dotenv": str(Path(".env").resolve()),
        "dotenv_found": Path(".env").is_file(),
    }


async def cmd_config_show(_: SwarmService | None, args: argparse.Namespace) -> None:
    """``swarm config show [--json]``."""
    config: Config = args.configuration
    rows = settings_table(config, args)
    files = _files()
    invalid = invalid_settings(config)
    if args.json:
        emit_json({"settings": rows, "files": files, "invalid": invalid})
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        print(f"{row['name'].ljust(width)}  {row['value']}  ({row['source']})")
    print(
        f"\nuser config: {files['user_config']} "
        f"({'found' if files['user_config_found'] else 'none'})"
    )
    print(f".env: {files['dotenv']} ({'found' if files['dotenv_found'] else 'none'})")
    for error in invalid:
        print(f"invalid: {error} (swarm run would refuse to start)")
