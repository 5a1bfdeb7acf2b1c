"""``swarm config show``: each effective setting and where it came from (secrets hidden)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.output import emit_json
from bot.config_file import DEFAULT, FLAG, KNOWN_SETTINGS, shown_value, user_config_path
from core.errors import SwarmError

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
        shown = _default(config, name) if value is None else shown_value(name, value)
        rows.append({"name": name, "value": shown, "source": DEFAULT if value is None else source})
    return rows


def _default(config: Config, name: str) -> str:
    """The effective value of an unset setting, where it is worth saying."""
    try:
        if name == "SWARM_HOME":
            return str(config.core.home)
        if name == "SWARM_CONFIG":
            return str(config.core.config_path)
    except SwarmError:
        return "(invalid: see swarm doctor)"
    return "(built-in)"


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
    if args.json:
        emit_json({"settings": rows, "files": files})
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        print(f"{row['name'].ljust(width)}  {row['value']}  ({row['source']})")
    print(
        f"\nuser config: {files['user_config']} "
        f"({'found' if files['user_config_found'] else 'none'})"
    )
    print(f".env: {files['dotenv']} ({'found' if files['dotenv_found'] else 'none'})")
