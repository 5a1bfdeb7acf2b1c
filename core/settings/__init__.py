"""Typed settings parsed from an environment mapping (``bot.config`` reads it once).

``CORE`` declares the core's settings (``core/settings/envvars.py``): the process-wide ones first
(home, agents file, who is acting, the log file), then the coordinator's. ``Settings``
takes its defaults from it and ``Settings.from_env`` reads it."""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.agent_state import LIMIT_MAX_S
from core.errors import ConfigError
from core.settings.envvars import (
    Setting,
    count,
    defaults,
    number,
    read_fields,
    seconds,
    show,
    text,
)

RESERVATION_MODES = ("warn", "strict")


def _path(name: str, raw: str) -> Path:
    return Path(raw).expanduser()


def _reservations(name: str, raw: str) -> str:
    mode = raw.strip().lower()
    if mode not in RESERVATION_MODES:
        raise ConfigError(f"{name} must be warn or strict, got {show(raw)}")
    return mode


def _database_url(name: str, raw: str) -> str:
    """A ``postgresql://`` URL; ConfigError otherwise (its credentials never shown)."""
    raw = raw.strip()
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in {"postgresql", "postgres"}:
        from core.privacy.redact import redact_urls

        raise ConfigError(f"{name} must be a postgresql:// URL, got {show(redact_urls(raw))}")
    return raw


# SWARM_STALL_AFTER is the watcher's (core.watch.settings lists it); the core holds a task's
# prompt at most this long while the agent's hook says it is mid-turn.
STALL_AFTER = Setting(
    "SWARM_STALL_AFTER",
    "stall_after_s",
    600.0,
    seconds(1),
    "seconds without a sign of life before a busy agent counts as stalled",
)
HOME = Setting("SWARM_HOME", "", Path("~/.swarm"), _path, "state folder", unset="{0.home}")
# the CLI's global options that take a value (bot.cli.main; the door reads them too)
GLOBAL_VALUED = ("--as", "--config")
CONFIG = Setting("SWARM_CONFIG", "", None, _path, "agents file", unset="{0.config_path}")
AGENT = Setting(
    "SWARM_AGENT",
    "",
    None,
    text,
    "who is acting (an agent's terminal sets it); --as overrides",
    unset="cli",
)
DOOR_AGENT = Setting(
    "SWARM_DOOR_AGENT",
    "",
    None,
    text,
    "the agent whose sandbox's door runs this command (the door sets it): its own items only",
    unset="(not through a door)",
)
MCP_TOKEN = Setting(
    "SWARM_MCP_TOKEN",
    "",
    None,
    text,
    "swarm mcp acts as this token's agent",
    secret=True,
    unset="(not set)",
)
LOG_FILE = Setting(
    "SWARM_LOG_FILE", "", "", text, "log to this file", unset="(none: logs go to stderr)"
)
LOG_MAX_BYTES = Setting(
    "SWARM_LOG_MAX_BYTES", "", 10_000_000, count(10_000, 10**10), "log file rotated at this size"
)
LOG_BACKUPS = Setting("SWARM_LOG_BACKUPS", "", 5, count(1, 100), "rotated log files kept")
CORE: tuple[Setting, ...] = (
    HOME,
    CONFIG,
    AGENT,
    DOOR_AGENT,
    MCP_TOKEN,
    LOG_FILE,
    LOG_MAX_BYTES,
    LOG_BACKUPS,
    Setting("SWARM_MAX_TEXT", "max_text", 8000, count(1, 100_000), "longest message or details"),
    Setting(
        "SWARM_LEASE",
        "lease_s",
        300.0,
        seconds(positive=True),
        "seconds an assigned task may go without a report before it is reassigned",
    ),
    Setting(
        "SWARM_MAX_ATTEMPTS", "max_attempts", 3, count(1, 100), "assignments before a task fails"
    ),
    Setting(
        "SWARM_RETRY_BACKOFF",
        "retry_backoff_s",
        5.0,
        seconds(0, 3600, positive=True),
        "first backoff in seconds, doubled per attempt",
    ),
    Setting(
        "SWARM_DELIVERY_ATTEMPTS",
        "delivery_attempts",
        3,
        count(1, 100),
        "tries per delivery before it fails",
    ),
    Setting(
        "SWARM_BUSY_TIMEOUT",
        "busy_timeout_s",
        30.0,
        seconds(0, 3600, positive=True),
        "seconds a writer waits for the database",
    ),
    Setting(
        "SWARM_KEEP_DAYS",
        "keep_days",
        90.0,
        number(1, 36_500),
        "days of finished history kept in the database",
    ),
    Setting(
        "SWARM_DATABASE_URL",
        "database_url",
        None,
        _database_url,
        "keep the state in PostgreSQL instead of SQLite",
        unset="(none: SQLite {0.db_path})",
    ),
    Setting(
        "SWARM_FAILOVER",
        "failover_s",
        5.0,
        seconds(0, 600, positive=True),
        "PostgreSQL: a standby takes over within this many seconds",
    ),
    Setting(
        "SWARM_LIMIT_BACKOFF",
        "limit_backoff_s",
        1800.0,
        seconds(0, LIMIT_MAX_S, positive=True),  # no usage limit holds longer than a week
        "no task for this long after a usage limit without a reset time",
    ),
    Setting(
        "SWARM_APPROVAL_WAIT",
        "approval_wait_s",
        120.0,
        seconds(0, 3600),
        "seconds a PermissionRequest hook waits for a person's decision",
    ),
    Setting(
        "SWARM_RESERVATIONS",
        "reservations",
        "warn",
        _reservations,
        "a merge over another agent's exclusive reservation: warn or strict",
    ),
    Setting(
        "SWARM_RESERVE_SHARE",
        "reserve_share",
        0.5,
        number(0, 1),
        "share of the repository's files an exclusive reservation may cover unapproved",
    ),
    Setting(
        "SWARM_PRICES",
        "prices_file",
        None,
        _path,
        "a TOML file of model prices ($ per million tokens) over swarm's own table",
        unset="(none: swarm's own table)",
    ),
)
_DEFAULT = defaults(CORE)


@dataclass(frozen=True)
class Settings:
    """Everything the coordinator needs to know that is not in the agents file."""

    home: Path
    config_path: Path
    max_text: int = _DEFAULT["max_text"]
    max_title: int = 200
    lease_s: float = _DEFAULT["lease_s"]
    max_attempts: int = _DEFAULT["max_attempts"]
    retry_backoff_s: float = _DEFAULT["retry_backoff_s"]
    retry_backoff_max_s: float = 300.0
    delivery_attempts: int = _DEFAULT["delivery_attempts"]
    busy_timeout_s: float = _DEFAULT["busy_timeout_s"]
    success_window: float = 0.2
    keep_days: float = _DEFAULT["keep_days"]  # history and inbox files of finished work
    # PostgreSQL instead of the SQLite file (may hold a password: never in a repr or a log)
    database_url: str | None = field(default=_DEFAULT["database_url"], repr=False)
    failover_s: float = _DEFAULT["failover_s"]  # a dead scheduler's successor takes over
    limit_backoff_s: float = _DEFAULT["limit_backoff_s"]  # a limit without a reset time
    approval_wait_s: float = _DEFAULT["approval_wait_s"]  # a PermissionRequest hook waits
    # a task's prompt waits while its agent's hook says it is mid-turn, the hook read at
    # most this long ago (SWARM_STALL_AFTER: older, the stall rules call the agent idle)
    turn_hold_s: float = STALL_AFTER.default
    # task merge over another agent's exclusive file reservation: "warn" (merged, with an
    # event) or "strict" (refused)
    reservations: str = _DEFAULT["reservations"]
    # an exclusive reservation covering more of the tree's files (or with no task and no TTL)
    # waits for a person's approval
    reserve_share: float = _DEFAULT["reserve_share"]
    # how an agent's shell runs swarm: this installation's program by absolute path (the
    # composition root says; an agent's shell, a login shell too, may lack it on its PATH)
    swarm_program: str = "swarm"
    prices_file: Path | None = _DEFAULT["prices_file"]  # model prices over swarm's own
    # a fingerprint of each agent CLI's credential variable set in the environment (the
    # one ``swarm desktop up`` launches agents with): an agent's derived account
    credential_prints: Mapping[str, str] = field(default_factory=dict, repr=False)
    # each agent CLI's own folder, for the agents swarm launches (Claude Code's
    # ``$CLAUDE_CONFIG_DIR``, else ``~/.claude``: an AgentCli's ``sessions``), by CLI: its
    # session files give the turns' usage on the tmux route
    cli_dirs: Mapping[str, Path] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        """The SQLite file holding all state."""
        return self.home / "swarm.db"

    @property
    def database_shown(self) -> str:
        """Where the state lives, fit to log or print: the URL without credentials."""
        if self.database_url:
            from core.privacy.redact import redact_urls

            return redact_urls(self.database_url)
        return str(self.db_path)

    @functools.cached_property
    def custom_home(self) -> Path | None:
        """The home as an absolute path when it is not the default ``~/.swarm``: prompts name
        it, so that an agent's terminal reports to this database (worked out once: every
        prompt asks)."""
        home = self.home.absolute()
        return None if home == (Path.home() / ".swarm").absolute() else home

    @property
    def agent_swarm(self) -> str:
        """How an agent's terminal calls this swarm (its home and program)."""
        return swarm_command(self.custom_home, self.swarm_program)

    @property
    def inbox_dir(self) -> Path:
        """Folder of per-agent inbox folders (the fallback delivery)."""
        return self.home / "inbox"

    @classmethod
    def from_env(cls, env: Mapping[str, str], config: str | Path | None = None) -> Settings:
        """Build settings from ``env`` (``SWARM_HOME``, ``SWARM_LEASE``...: ``CORE``)."""
        home = HOME.read(env).expanduser()
        return cls(
            home=home,
            config_path=_config_path(CONFIG.read(env), home, config),
            turn_hold_s=_turn_hold(env),
            credential_prints=credential_prints(env),
            cli_dirs=cli_dirs(env),
            **read_fields(CORE, env),
        )


def swarm_command(home: Path | None, program: str = "swarm") -> str:
    """How an agent's terminal calls swarm: ``program`` (this installation's ``swarm`` by
    absolute path: an agent's shell, a login shell too, may not have it on its PATH), with
    ``SWARM_HOME=...`` before it for a custom home."""
    return f"SWARM_HOME={shlex.quote(str(home))} {program}" if home else program


def cli_dirs(env: Mapping[str, str]) -> dict[str, Path]:
    """Each agent CLI's own folder whose session files swarm reads: its variable (Claude
    Code's ``$CLAUDE_CONFIG_DIR``), else its folder in ``$HOME``; a CLI with neither set is
    left out."""
    from core.clis import CLIS

    found = {}
    for cli in CLIS:
        folder = cli.sessions.config_folder(env) if cli.sessions is not None else None
        if folder is not None:
            found[cli.name] = folder
    return found


def credential_prints(env: Mapping[str, str]) -> dict[str, str]:
    """Each agent CLI's credential variable set in ``env`` -> a short fingerprint of its
    value (12 hex digits of a SHA-256: it names an account, never the credential)."""
    from core.clis import CLIS

    names = {name for cli in CLIS for name in cli.credentials}
    return {
        name: hashlib.sha256(f"swarm-account:{env[name]}".encode()).hexdigest()[:12]
        for name in sorted(names)
        if env.get(name, "").strip()
    }


def _turn_hold(env: Mapping[str, str]) -> float:
    """``SWARM_STALL_AFTER`` as the bound of a mid-turn hold; its default when the value is
    bad (the watcher's settings name it and stop ``swarm run``; an agent's report goes on)."""
    try:
        return float(STALL_AFTER.read(env))
    except ConfigError:
        return float(STALL_AFTER.default)


def _config_path(given: Path | None, home: Path, explicit: str | Path | None) -> Path:
    """``--config``, else ``SWARM_CONFIG``, else the home's ``agents.toml``, else the bundled."""
    if explicit:
        return Path(explicit).expanduser()
    if given:
        return given
    in_home = home / "agents.toml"
    return in_home if in_home.is_file() else bundled_agents_file()


def bundled_agents_file() -> Path:
    """The agents file shipped with swarm (package data ``core/bundled/agents.toml``)."""
    return bundled_file("agents.toml")


@functools.cache
def bundled_file(name: str) -> Path:
    """A file or folder shipped with swarm under ``core/bundled/`` (package data)."""
    from importlib.resources import as_file, files  # ~10 ms: only when it is needed

    resource = files("core") / "bundled" / name
    if isinstance(resource, Path):
        return resource
    stack = contextlib.ExitStack()  # installed as a zip: a temporary copy for this process
    atexit.register(stack.close)
    return stack.enter_context(as_file(resource))
