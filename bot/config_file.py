"""Where each setting comes from: the environment, ``./.env``, the user config file, defaults.

The user config file (``~/.config/swarm/config.toml`` on Linux, by ``platformdirs``) holds the
settings an agent's terminal needs wherever it is opened; its keys are the environment names
without ``SWARM_``, in lower case (``home = "~/agents/swarm"``, ``lease = 300``,
``discord_token = "..."``). ``swarm config show`` prints each effective value and its source.
Its ``[github]`` table holds settings (``TABLES``); ``[desktop]`` is a section of its own
(``SECTIONS``), read by ``read_user_tables``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.formats.tomltext import TomlError, loads
from core.privacy.redact import redact_urls

ENV, DOTENV, USER, DEFAULT, FLAG = "env", ".env", "user config", "default", "flag"
# Tables of the file whose keys are a group's settings: ``[github] repo = "o/n"`` is
# ``SWARM_GITHUB_REPO``; ``token`` there is ``GITHUB_TOKEN``.
TABLES = {"github": {"token": "github_token", "ci_retries": "ci_retries"}}
SECTIONS = ("desktop",)  # the user config's own sections: what swarm desktop up opens


def user_config_path() -> Path:
    """``config.toml`` in the user's config folder (``$XDG_CONFIG_HOME/swarm`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("swarm", appauthor=False)) / "config.toml"


def env_name(key: str) -> str:
    """``lease`` → ``SWARM_LEASE``; ``discord_token`` → ``DISCORD_TOKEN`` (a setting whose
    name has no ``SWARM_``)."""
    upper = key.strip().upper()
    names = (f"SWARM_{upper}", upper)
    for known in (_usual, _known):  # the whole index only for a name the usual ones lack
        found = next((name for name in names if known(name)), None)
        if found is not None:
            return found
    return f"SWARM_{upper}"


def _usual(name: str) -> bool:
    """True for a setting of the core or of Discord (a user file's usual keys): their
    declarations are cheap to import, and ``swarm hook`` reads the user file at every call."""
    from bot.discordbot.settings import DISCORD
    from core.settings import CORE

    return any(s.name == name for table in (CORE, DISCORD) for s in table)


def _known(name: str) -> bool:
    """True when ``name`` is a declared setting (the whole list, ``bot.settings_index``: some
    25 ms of CPU on the build machine, measured on ``swarm hook``'s path)."""
    if _usual(name):
        return True
    from bot.settings_index import every_setting

    return name in every_setting()


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return loads(path.read_text(encoding="utf-8"))
    except (TomlError, UnicodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def read_user_tables(path: Path) -> dict[str, dict[str, Any]]:
    """The file's tables (``[desktop]``) as they are, validated by whoever reads them."""
    data = _read(path)
    return {key: data[key] for key in SECTIONS if isinstance(data.get(key), dict)}


def read_user_config(path: Path) -> dict[str, str]:
    """The file's settings by environment name; ConfigError naming the file and the key."""
    data = _read(path)
    values: dict[str, str] = {}
    for key, value in _flattened(data).items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {key} must be a table ([{key}])")
            continue
        name = env_name(key)
        if not _known(name):
            raise ConfigError(
                f"{path}: unknown setting {key!r} (keys are the SWARM_ "
                "environment names without SWARM_, in lower case)"
            )
        values[name] = _text(path, key, value)
    return values


def _flattened(data: Mapping[str, object]) -> dict[str, object]:
    """The file's keys with each known table's keys as settings (``[github] repo`` →
    ``github_repo``, ``[github] token`` → ``github_token``); other values as they are."""
    flat: dict[str, object] = {}
    for key, value in data.items():
        table = TABLES.get(key.strip().lower())
        if table is None or not isinstance(value, Mapping):
            flat[key] = value
            continue
        for inner, item in value.items():
            inner = inner.strip().lower()
            flat[table.get(inner, f"{key.strip().lower()}_{inner}")] = item
    return flat


def _text(path: Path, key: str, value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ",".join(str(v) for v in value)
    raise ConfigError(f"{path}: {key} must be a string, a number or a list of them")


def layered_environment(
    dotenv: Path, user_file: Path | None, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """The environment over ``dotenv`` over the user file; and each name's source."""
    layers: list[tuple[str, Mapping[str, str]]] = []
    if user_file is not None:
        layers.append((USER, read_user_config(user_file)))
    if dotenv.is_file():
        from dotenv import dotenv_values

        layers.append((DOTENV, {k: v for k, v in dotenv_values(dotenv).items() if v is not None}))
    layers.append((ENV, os.environ if environ is None else environ))
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for name, value in layer.items():
            values[name] = value
            sources[name] = source
    return values, sources


def shown_value(name: str, value: str) -> str:
    """A value fit to print: secrets hidden, credentials in URLs removed."""
    from bot.settings_index import secret_names

    if name in secret_names():
        return "(set, hidden)" if value else "(empty)"
    return redact_urls(value)
