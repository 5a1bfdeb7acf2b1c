"""``swarm config show``: each effective setting and where it came from (secrets hidden)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.output import emit_json
from bot.config import SECTIONS
from bot.config_file import DEFAULT, FLAG, shown_value, user_config_path
from bot.settings_index import every_setting
from core.errors import ConfigError
from core.settings.envvars import shown

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
    for name in every_setting():
        value, source = config.env.get(name), config.sources.get(name, DEFAULT)
        if name == "SWARM_CONFIG" and args.config:
            value, source = str(args.config), FLAG
        elif name == "SWARM_AGENT" and args.actor_flag:
            value, source = args.actor, FLAG
        text = default_value(config, name) if value is None else shown_value(name, value)
        rows.append({"name": name, "value": text, "source": DEFAULT if value is None else source})
    return rows


def invalid_settings(config: Config) -> list[str]:
    """The one-line error of each section that does not parse (its defaults are shown)."""
    errors = []
    for section in SECTIONS:
        try:
            getattr(config, section)
        except ConfigError as exc:
            errors.append(str(exc))
    return errors


def default_value(config: Config, name: str) -> str:
    """The value swarm uses for ``name`` when it is not set: its declared default, or its
    ``unset`` text (``{0.attr}``: an attribute of its parsed section)."""
    from bot.config import Config as Fresh

    section, setting = every_setting()[name]
    if "{0." not in setting.unset:
        return setting.unset or shown(setting.default)
    try:
        return setting.unset.format(getattr(config, section))
    except ConfigError:  # another setting of its section is invalid: the built-in default
        try:
            kept = ("SWARM_HOME", "SWARM_CONFIG")
            fresh = Fresh({k: v for k, v in config.env.items() if k in kept})
            return setting.unset.format(getattr(fresh, section))
        except ConfigError as exc:
            return f"(invalid: {exc})"


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
