"""Load and validate the agents file (``config/agents.toml``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from core.clis import CLIS, AgentCli, by_name, for_command
from core.errors import ConfigError
from core.formats.tomltext import TomlError, loads
from core.keys import PRESETS, TEXT_STEP, KeyComboError, parse_combo
from core.models import Agent, Limits, Sandbox
from core.sandbox import limits, never_inside
from core.tmux import BadTarget, parse_target

# its model through swarm's gateway though unsandboxed: in an [[agent]] table, or in [desktop]
GATEWAY_KEY = "gateway"
# bubblewrap around the agent's CLI: in an [[agent]] table, or in [desktop] for every agent
SANDBOX_KEYS = (
    "sandbox",
    "sandbox_network",
    "sandbox_allow",
    "sandbox_read",
    "sandbox_write",
    "sandbox_env",
    "sandbox_limits",
)
ALLOWED_KEYS = {
    "id",
    "role",
    "capabilities",
    "input",
    "watch",
    "capacity",
    "submit",
    "delivery",
    "app",
    "input_box",
    "paste",
    "clear",
    "workspace",
    "captain",
    "reset_between_tasks",
    "reset",
    "node",
    "tmux",
    "tmux_socket",
    "cli",
    "cli_dir",
    "mcp",
    "hooks",
    "account",
    "daily_budget",
    "account_daily_budget",
    *SANDBOX_KEYS,
    GATEWAY_KEY,
}
# [desktop]: read by ``swarm desktop up``; [[parked]]: agents kept aside by ``desktop up
# --agents N`` (not served; a larger N makes them [[agent]] again)
TOP_LEVEL_KEYS = {"agent", "parked", "desktop"}
DELIVERY_METHODS = ("gui", "inbox", "tmux", "protocol")
NETWORKS = ("model", "none", "open")  # sandbox_network (core.models.Sandbox.network)
AGENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
RULE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # an agent-rules file's name, no suffix


def load_agents(path: Path) -> list[Agent]:
    """Read the agents file; raise ConfigError naming the file and the problem."""
    agents, parked = load_team(path)
    if not agents:
        hint = f" ({len(parked)} parked: swarm desktop up --agents N)" if parked else ""
        raise ConfigError(f"agents file {path} defines no agents: add [[agent]] tables{hint}")
    return agents


def load_team(path: Path) -> tuple[list[Agent], list[Agent]]:
    """The file's agents and its parked agents (``[[parked]]``), each in file order, checked
    alike (ids unique across both); ConfigError naming the file and the problem."""
    try:
        raw = loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"agents file {path} does not exist (set SWARM_CONFIG or --config)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"agents file {path} cannot be read: {exc}") from None
    except TomlError as exc:
        raise ConfigError(f"agents file {path} is not valid TOML: {exc}") from None
    unknown = set(raw) - TOP_LEVEL_KEYS
    if unknown:
        raise ConfigError(
            f"agents file {path}: unknown top-level key(s) {', '.join(sorted(unknown))} "
            "(agents are [[agent]] tables, the desktop layout is [desktop])"
        )
    entries, kept = raw.get("agent", []), raw.get("parked", [])
    if not isinstance(entries, list) or not isinstance(kept, list) or not (entries or kept):
        raise ConfigError(f"agents file {path} defines no agents: add [[agent]] tables")
    section = raw.get("desktop")
    commands = _desktop_commands(section)
    fenced = _desktop_sandbox(section)

    def editor(entry: Any) -> bool:  # an editor's command is not wrapped: never sandboxed
        agent_id = entry.get("id") if isinstance(entry, dict) else None
        return bool(_desktop_kind(section, agent_id) == "gui")

    agents = [
        _parse_agent(path, i, e, commands, fenced=fenced, editor=editor(e))
        for i, e in enumerate(entries, 1)
    ]
    parked = [
        _parse_agent(path, i, e, commands, "parked", fenced, editor(e))
        for i, e in enumerate(kept, 1)
    ]
    _check_unique(path, [*agents, *parked])
    _check_account_budgets(path, agents)
    captains = [a.id for a in agents if a.captain]
    if len(captains) > 1:
        raise ConfigError(f"agents file {path}: only one captain, not {', '.join(captains)}")
    return agents, parked


def _desktop_commands(section: Any) -> dict[str, str]:
    """Each agent's command in the ``[desktop]`` section (``""``: the section's own, for an
    agent without one); only strings (``swarm desktop up`` checks the rest)."""
    if not isinstance(section, dict):
        return {}
    found = {"": section["command"]} if isinstance(section.get("command"), str) else {}
    agents = section.get("agent")
    for name, own in agents.items() if isinstance(agents, dict) else ():
        if isinstance(own, dict) and isinstance(own.get("command"), str):
            found[name] = own["command"]
    return found


def _desktop_sandbox(section: Any) -> dict[str, Any]:
    """The sandbox keys of the ``[desktop]`` section: every terminal agent's, unless its own
    say (not an editor window's: ``_desktop_kind``)."""
    if not isinstance(section, dict):
        return {}
    return {key: section[key] for key in (*SANDBOX_KEYS, GATEWAY_KEY) if key in section}


def _desktop_kind(section: Any, agent_id: Any) -> Any:
    """The ``kind`` the ``[desktop]`` section gives ``agent_id``'s window (its own, else the
    section's); an editor window's (``"gui"``) command is not wrapped, so the section's
    sandbox keys are not its default."""
    if not isinstance(section, dict):
        return None
    agents = section.get("agent")
    own = agents.get(agent_id) if isinstance(agents, dict) and isinstance(agent_id, str) else None
    return own.get("kind", section.get("kind")) if isinstance(own, dict) else section.get("kind")


def agent_cli(cli: str | None, agent_id: str, commands: dict[str, str]) -> AgentCli | None:
    """The agent CLI of an agent: its ``cli`` key, else the CLI its ``[desktop]`` command
    starts; None when neither says one swarm knows."""
    if cli is not None:
        return by_name(cli)
    command = commands.get(agent_id, commands.get(""))
    return for_command(command) if command else None


def _parse_agent(
    path: Path,
    index: int,
    entry: Any,
    commands: dict[str, str],
    kind: str = "agent",
    fenced: dict[str, Any] | None = None,
    editor: bool = False,
) -> Agent:
    where = f"agents file {path}, {kind} #{index}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = set(entry) - ALLOWED_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    agent_id = _text(entry, "id", where)
    if not AGENT_ID.fullmatch(agent_id):
        raise ConfigError(
            f"{where}: id {agent_id!r} must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    where = f"agents file {path}, {kind} {agent_id}"
    caps = entry.get("capabilities", [])
    if not isinstance(caps, list) or not all(isinstance(c, str) and c for c in caps):
        raise ConfigError(f"{where}: capabilities must be a list of names")
    delivery = entry.get("delivery", "gui")
    if delivery not in DELIVERY_METHODS:
        raise ConfigError(f"{where}: delivery must be one of {', '.join(DELIVERY_METHODS)}")
    capacity = entry.get("capacity", 1)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise ConfigError(f"{where}: capacity must be a whole number of at least 1")
    if delivery == "tmux" and entry.get("tmux") is None:
        raise ConfigError(f'{where}: delivery = "tmux" needs a tmux pane (tmux = "session:window")')
    app = entry.get("app", "terminal" if delivery == "tmux" else "chat")
    if app not in PRESETS:
        raise ConfigError(f"{where}: app must be one of {', '.join(PRESETS)}")
    preset = PRESETS[app]
    cli = _cli(entry.get("cli"), where)
    known = agent_cli(cli, agent_id, commands)  # its keys, where the entry has none
    if delivery == "protocol" and (known is None or not known.speaks_protocol):
        speak = ", ".join(c.name for c in CLIS if c.speaks_protocol)
        raise ConfigError(
            f'{where}: delivery = "protocol" needs a cli that speaks one ({speak}): '
            f"{known.title + ' has none' if known else 'set cli'}"
        )
    point = _ints(entry.get("input"), 2, "input", where)
    watch = _region(entry.get("watch"), "watch", where)
    sandbox = _sandbox(entry if editor else {**(fenced or {}), **entry}, where)
    return Agent(
        id=agent_id,
        role=_text(entry, "role", where),
        capabilities=tuple(caps),
        input=point,
        watch=watch,
        capacity=capacity,
        submit=_combo(
            entry.get("submit", known.submit if known else preset.submit), "submit", where
        ),
        delivery=delivery,
        app=app,
        input_box=_input_box(entry.get("input_box"), point, watch, where),
        clear=_clear_keys(entry.get("clear", list(known.clear if known else preset.clear)), where),
        paste=_combo(entry.get("paste", preset.paste), "paste", where),
        set_primary=preset.set_primary,
        workspace=_workspace(entry.get("workspace"), where),
        captain=_flag(entry, "captain", where),
        reset_between_tasks=_flag(entry, "reset_between_tasks", where),
        reset=_reset_keys(entry.get("reset", list(known.reset if known else preset.reset)), where),
        node=_node(entry.get("node"), where),
        tmux=_tmux(entry.get("tmux"), where),
        tmux_socket=_tmux_socket(entry, where),
        cli=cli,
        cli_dir=_cli_dir(entry.get("cli_dir"), where),
        mcp=_flag(entry, "mcp", where, known is not None and known.reports_by_mcp),
        hooks=_flag(entry, "hooks", where),
        account=_account(entry.get("account"), where),
        daily_budget=_dollars(entry.get("daily_budget"), "daily_budget", where),
        account_daily_budget=_account_budget(entry, where),
        sandbox=None if editor else sandbox,
        sandbox_refused=editor and sandbox is not None,
        gateway=_gateway(entry, {} if editor else (fenced or {}), known, where),
    )


def _gateway(
    entry: dict[str, Any], section: dict[str, Any], known: AgentCli | None, where: str
) -> bool:
    """``gateway = true``: its model through swarm's gateway though unsandboxed (a sandbox's
    own network says it for a sandboxed one). The ``[desktop]`` section's is the default of
    each agent whose CLI has a gateway set-up; an agent's own for another CLI is refused."""
    served = known is not None and known.model_wire is not None
    if GATEWAY_KEY not in entry:
        return served and _flag(section, GATEWAY_KEY, f"{where} ([desktop])")
    wanted = _flag(entry, GATEWAY_KEY, where)
    if wanted and not served:
        title = known.title if known is not None else "its command"
        raise ConfigError(f"{where}: gateway = true but {title} has no gateway set-up in swarm")
    return wanted


def _sandbox(entry: dict[str, Any], where: str) -> Sandbox | None:
    """The agent's sandbox (``sandbox = true``), or None; ConfigError on a bad key."""
    if not _flag(entry, "sandbox", where):
        return None
    return Sandbox(
        network=_network(entry.get("sandbox_network"), where),
        allow=_allow(entry.get("sandbox_allow", []), where),
        read=_paths(entry.get("sandbox_read", []), "sandbox_read", where),
        write=_paths(entry.get("sandbox_write", []), "sandbox_write", where),
        env=_env_names(entry.get("sandbox_env", []), where),
        limits=_limits(entry.get("sandbox_limits", {}), where),
    )


def _limits(value: Any, where: str) -> Limits:
    """``sandbox_limits``: ConfigError in one line for a bad one."""
    try:
        return limits.parse(value, where)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _network(value: Any, where: str) -> str:
    """``sandbox_network``: ``"model"``, ``"none"`` or ``"open"`` (``""``: not said, the
    default); ``true`` and ``false`` of before are ``"open"`` and ``"none"``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "open" if value else "none"
    if value not in NETWORKS:
        raise ConfigError(f'{where}: sandbox_network must be "model", "none" or "open"')
    return str(value)


def _allow(value: Any, where: str) -> tuple[str, ...]:
    """``sandbox_allow``: the hosts its egress proxy opens (``"github.com"``, ``"github.com:443"``,
    ``"10.0.0.5:5432"``), each checked in full where its sandbox starts."""
    if not isinstance(value, list) or len(value) > 256 or not all(
        isinstance(h, str) and 0 < len(h) <= 262 and h.isascii() and h.isprintable()
        and " " not in h for h in value
    ):  # fmt: skip
        raise ConfigError(f"{where}: sandbox_allow must be a list of hosts (name or name:port)")
    return tuple(value)


def _env_names(value: Any, where: str) -> tuple[str, ...]:
    """``sandbox_env``: names of variables, none of swarm's own tokens (``NEVER_INSIDE``)."""
    if not isinstance(value, list) or not all(
        isinstance(n, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in value
    ):
        raise ConfigError(f"{where}: sandbox_env must be a list of variable names")
    refused = [n for n in value if never_inside(n)]
    if refused:
        raise ConfigError(
            f"{where}: sandbox_env may not pass {', '.join(refused)}: swarm's own tokens and "
            "settings never enter a sandbox"
        )
    return tuple(value)


def _paths(value: Any, key: str, where: str) -> tuple[str, ...]:
    """A list of absolute paths, or of paths under the home (``~/...``)."""
    if not isinstance(value, list) or not all(
        isinstance(p, str) and (p.startswith(("/", "~/"))) and "\0" not in p for p in value
    ):
        raise ConfigError(f"{where}: {key} must be a list of absolute paths (or ~/...)")
    return tuple(value)


def _cli_dir(value: Any, where: str) -> str | None:
    """The folder of the agent CLI's own files as ``swarm desktop up`` runs it (an absolute
    path); ``""``: not known (written so for a wrapper script); None: not said."""
    if value is None:
        return None
    if value == "":
        return ""
    if not isinstance(value, str) or not Path(value).is_absolute() or "\0" in value:
        raise ConfigError(f"{where}: cli_dir must be an absolute path, not {value!r}")
    return value


def _account(value: Any, where: str) -> str | None:
    """The account an agent runs on (its usage limits and spend are the account's), or None:
    derived from its CLI and credential (``core.accounts``)."""
    if value is None:
        return None
    if not isinstance(value, str) or not AGENT_ID.fullmatch(value):
        raise ConfigError(
            f"{where}: account must be 1-64 letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit, not {value!r}"
        )
    return value


def _account_budget(entry: dict[str, Any], where: str) -> float | None:
    """The daily budget of the agent's account, which it must name (a derived account is
    known only at run time)."""
    dollars = _dollars(entry.get("account_daily_budget"), "account_daily_budget", where)
    if dollars is not None and entry.get("account") is None:
        raise ConfigError(f'{where}: account_daily_budget needs a named account (account = "...")')
    return dollars


def _check_account_budgets(path: Path, agents: list[Agent]) -> None:
    """The agents of one account name one ``account_daily_budget`` (or none)."""
    seen: dict[str, tuple[str, float]] = {}
    for agent in agents:
        if agent.account is None or agent.account_daily_budget is None:
            continue
        first = seen.setdefault(agent.account, (agent.id, agent.account_daily_budget))
        if first[1] != agent.account_daily_budget:
            raise ConfigError(
                f"agents file {path}: account {agent.account}'s account_daily_budget is "
                f"{first[1]:g} for {first[0]} but {agent.account_daily_budget:g} for {agent.id}"
            )


def _dollars(value: Any, key: str, where: str) -> float | None:
    """A sum of dollars above zero (a budget), or None."""
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not 0 < value < 1e9:
        raise ConfigError(f"{where}: {key} must be a number of dollars above 0, not {value!r}")
    return float(value)


def _tmux(value: Any, where: str) -> str | None:
    """The agent's tmux pane (``session:window[.pane]``), or None: no text signal."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f'{where}: tmux must be a string like "swarm:3", not {value!r}')
    try:
        return parse_target(value)
    except BadTarget as exc:
        raise ConfigError(f"{where}: tmux {exc}") from None


def _tmux_socket(entry: dict[str, Any], where: str) -> str | None:
    """The tmux server's socket path (``tmux -S``), only with a ``tmux`` pane."""
    value = entry.get("tmux_socket")
    if value is None:
        return None
    if entry.get("tmux") is None:
        raise ConfigError(f'{where}: tmux_socket needs a tmux pane (tmux = "session:window")')
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: tmux_socket must be the path of a tmux socket")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        raise ConfigError(f"{where}: tmux_socket must be an absolute path, not {value!r}")
    return str(path)


def _cli(value: Any, where: str) -> str | None:
    """The agent CLI's rule-file name (``claude-code``, ``codex``...), or None: try all."""
    if value is None:
        return None
    if not isinstance(value, str) or not RULE_NAME.fullmatch(value):
        raise ConfigError(
            f'{where}: cli must be the name of a rule file (like "claude-code"), not {value!r}'
        )
    return value


def _flag(entry: dict[str, Any], key: str, where: str, default: bool = False) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false")
    return value


def _node(value: Any, where: str) -> str | None:
    """A delivery node's name (``swarm node --name``), or None: delivered by the coordinator."""
    if value is None:
        return None
    if not isinstance(value, str) or not AGENT_ID.fullmatch(value):
        raise ConfigError(
            f"{where}: node must be 1-64 letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit, not {value!r}"
        )
    return value


def _workspace(value: Any, where: str) -> str | None:
    """An absolute folder path (``~`` expanded), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: workspace must be a folder path")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        raise ConfigError(f"{where}: workspace must be an absolute path, not {value!r}")
    return str(path)


def _combo(value: Any, key: str, where: str) -> str:
    try:
        return "+".join(parse_combo(value))
    except KeyComboError as exc:
        raise ConfigError(f"{where}: {key}: {exc}") from None


def _reset_keys(value: Any, where: str) -> tuple[str, ...]:
    """Steps of the reset action: key combinations, or ``text:...`` typed as it is."""
    if not isinstance(value, list) or not value:
        raise ConfigError(
            f'{where}: reset must be a non-empty list of key combinations or "text:..." steps'
        )
    steps = []
    for step in value:
        if isinstance(step, str) and step.startswith(TEXT_STEP):
            if not step[len(TEXT_STEP) :].strip():
                raise ConfigError(f"{where}: reset: {step!r} has no text")
            steps.append(step)
        else:
            steps.append(_combo(step, "reset", where))
    return tuple(steps)


def _clear_keys(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: clear must be a list of key combinations")
    return tuple(_combo(combo, "clear", where) for combo in value)


def _input_box(
    value: Any,
    point: tuple[int, int] | None,
    watch: tuple[int, int, int, int] | None,
    where: str,
) -> tuple[int, int, int, int] | None:
    """The configured box; else the watch region when it holds the input point; else None."""
    box = _region(value, "input_box", where)
    if box is not None or point is None or watch is None:
        return box
    x, y, width, height = watch
    inside = x <= point[0] < x + width and y <= point[1] < y + height
    return watch if inside else None


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _ints(value: Any, count: int, key: str, where: str) -> Any:
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) == count
    if not ok or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of {count} whole numbers")
    return tuple(value)


def _region(value: Any, key: str, where: str) -> tuple[int, int, int, int] | None:
    region: tuple[int, int, int, int] | None = _ints(value, 4, key, where)
    if region is not None and (region[2] <= 0 or region[3] <= 0):
        raise ConfigError(f"{where}: {key} width and height must be positive")
    return region


def _check_unique(path: Path, agents: list[Agent]) -> None:
    seen: dict[str, str] = {}
    for agent in agents:
        other = seen.get(agent.id.lower())
        if other == agent.id:
            raise ConfigError(f"agents file {path}: agent id {agent.id} appears twice")
        if other is not None:
            raise ConfigError(
                f"agents file {path}: agent ids {other} and {agent.id} differ only in case"
            )
        seen[agent.id.lower()] = agent.id
