"""The ``[desktop]`` section of the agents file (over the same section of the user config file,
``~/.config/swarm/config.toml``): what ``swarm desktop up`` opens, and where.

```toml
[desktop]
kind = "terminal"            # terminal | gui (default terminal)
command = "claude"           # the agent's command line ({agent}, {workspace} are filled in)
resume = "claude --continue" # after a reboot (default: known for claude, codex, aider)
terminal = "xterm"           # xterm, urxvt, gnome-terminal, konsole, kitty, alacritty, wezterm
layout = "4x2"               # columns x rows of the grid on the monitor
monitor = 0                  # which monitor (0 = the first)

[desktop.agent.Agent-5]      # per agent: any of kind, command, resume, terminal, app, class
kind = "gui"
command = "code --new-window {workspace}"
app = "vscode"               # the layout profile (``swarm agents calibrate --app vscode``)
class = "Code"               # the window's WM_CLASS, to find it (default: by its pid)

[desktop.agent.Agent-2.env]  # its CLI's environment (``[desktop.env]``: every agent's)
OPENAI_BASE_URL = "http://127.0.0.1:8080/v1"   # a value
OPENAI_API_KEY = "$TEAM_OPENAI_KEY"             # taken from swarm's environment by name
```
``nice`` (0-19, default 10; ``[desktop]`` or per agent) lowers the CPU priority of a protocol
agent's CLI (``swarm desktop up --protocol``), and so of what it runs, below swarm's own
processes: on a busy machine a prompt's delivery does not wait for the agents' own work; 0
leaves it as swarm's.
``env`` may also be a list of names passed from swarm's environment as they are (``env =
["ANTHROPIC_API_KEY"]``). A secret is named, never written: a literal value for a name that
looks secret (``*KEY*``, ``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``) is refused, and the values
taken from the environment never reach the agents file, a command line or a log.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.agents_file import GATEWAY_KEY, SANDBOX_KEYS
from core.clis import for_command
from core.errors import ConfigError
from core.formats.tomltext import TomlError, loads

KINDS = ("terminal", "gui")
TERMINALS = ("xterm", "urxvt", "gnome-terminal", "konsole", "kitty", "alacritty", "wezterm")
DEFAULTS = {"kind": "terminal", "command": "claude", "terminal": "xterm"}
AGENT_KEYS = ("kind", "command", "resume", "terminal", "app", "class", "env", "nice")
DEFAULT_NICE = 10  # a protocol agent's CLI runs this much below swarm's own processes
# "env" there: every agent's; the sandbox keys: every terminal agent's default (core.agents_file)
SECTION_KEYS = (*AGENT_KEYS, "layout", "monitor", "agent", *SANDBOX_KEYS, GATEWAY_KEY)
LAYOUT = re.compile(r"\s*([1-9][0-9]?)\s*x\s*([1-9][0-9]?)\s*")
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


@dataclass(frozen=True)
class Launch:
    """What to open for one agent."""

    agent: str
    kind: str
    command: str
    resume: str
    terminal: str
    app: str | None = None  # gui: the layout profile's name
    window_class: str | None = None  # gui: WM_CLASS (instance or class) of its window
    # its CLI's environment: (name, value or "$NAME" of swarm's environment), in order
    env: tuple[tuple[str, str], ...] = ()
    nice: int = DEFAULT_NICE  # a protocol agent's CLI: how much lower its CPU priority is


@dataclass(frozen=True)
class DesktopConfig:
    """The grid and every agent's launch."""

    layout: tuple[int, int]
    monitor: int
    launches: dict[str, Launch]
    sandbox: bool = False  # the section's sandbox = true: terminal agents' default

    def editors(self) -> list[str]:
        """The agents it opens as editor windows (``kind = "gui"``)."""
        return [agent for agent, launch in self.launches.items() if launch.kind == "gui"]

    @property
    def cells(self) -> int:
        """How many windows the grid holds."""
        return self.layout[0] * self.layout[1]


def parse_layout(text: str, where: str = "layout") -> tuple[int, int]:
    """``"4x2"`` -> (4, 2): columns, rows; ConfigError otherwise."""
    match = LAYOUT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(f"{where} must be COLUMNSxROWS such as 4x2, not {text!r}")
    return int(match.group(1)), int(match.group(2))


def default_resume(command: str) -> str:
    """The command that continues the last conversation (the command itself when unknown)."""
    cli = for_command(command)
    if cli is not None and cli.resume_option:
        return f"{command} {cli.resume_option}"
    if cli is not None and cli.resume_subcommand:
        words = shlex.split(command)
        at = next(i for i, word in enumerate(words) if Path(word).name in cli.programs)
        rest = shlex.join(words[at + 1 :])
        first = shlex.join(words[: at + 1])
        return f"{first} {cli.resume_subcommand} {rest}".strip()
    return command


def load_desktop(
    path: Path, agent_ids: Sequence[str], user_section: Mapping[str, Any] | None = None
) -> DesktopConfig:
    """The ``[desktop]`` section of the agents file at ``path`` over the user config's
    ``user_section`` (key by key, and per agent key by key); defaults where neither says."""
    try:
        raw = loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TomlError) as exc:
        raise ConfigError(f"agents file {path} cannot be read: {exc}") from None
    own = raw.get("desktop", {})
    where = f"agents file {path}, [desktop]"
    parked = [e.get("id") for e in raw.get("parked", []) if isinstance(e, Mapping)]
    known = [*agent_ids, *(i for i in parked if isinstance(i, str))]  # parked ones may stay
    if not user_section:
        return parse_desktop(own, agent_ids, where, known)
    if not isinstance(own, Mapping):
        raise ConfigError(f"{where} must be a table")
    return parse_desktop(
        merge_sections(user_section, own), agent_ids, f"{where} (with the user config's)", known
    )


def merge_sections(under: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over``'s keys over ``under``'s; the per-agent tables merged the same way."""
    merged = {**under, **over}
    agents_under, agents_over = under.get("agent", {}), over.get("agent", {})
    if isinstance(agents_under, Mapping) and isinstance(agents_over, Mapping):
        names = [*agents_under, *(n for n in agents_over if n not in agents_under)]
        merged["agent"] = {
            name: _merge_agent(agents_under.get(name, {}), agents_over.get(name, {}))
            for name in names
        }
    return merged


def _merge_agent(under: Any, over: Any) -> Any:
    if isinstance(under, Mapping) and isinstance(over, Mapping):
        return {**under, **over}
    return over if over != {} else under


def parse_desktop(
    section: Any, agent_ids: Sequence[str], where: str, known: Sequence[str] = ()
) -> DesktopConfig:
    """Validate a ``[desktop]`` table; one ConfigError naming the key on the first problem.
    ``known``: more agents a ``[desktop.agent.NAME]`` may name (the parked ones)."""
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where} must be a table")
    _check_keys(section, SECTION_KEYS, where)
    layout = parse_layout(section.get("layout", "4x2"), f"{where}: layout")
    monitor = section.get("monitor", 0)
    if not isinstance(monitor, int) or isinstance(monitor, bool) or monitor < 0:
        raise ConfigError(f"{where}: monitor must be a whole number from 0")
    per_agent = section.get("agent", {})
    if not isinstance(per_agent, Mapping):
        raise ConfigError(f"{where}: agent must be a table of [desktop.agent.NAME] tables")
    unknown = sorted(set(per_agent) - {*agent_ids, *known})
    if unknown:
        raise ConfigError(f"{where}: [desktop.agent.{unknown[0]}] names no agent of the file")
    launches = {}
    for agent in agent_ids:
        own = per_agent.get(agent, {})
        if not isinstance(own, Mapping):
            raise ConfigError(f"{where}: [desktop.agent.{agent}] must be a table")
        _check_keys(own, AGENT_KEYS, f"{where}.agent.{agent}")
        launches[agent] = _launch(agent, section, own, f"{where}.agent.{agent}")
    return DesktopConfig(layout, monitor, launches, section.get("sandbox") is True)


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _launch(agent: str, section: Mapping[str, Any], own: Mapping[str, Any], where: str) -> Launch:
    def value(key: str) -> str | None:
        found = own.get(key, section.get(key, DEFAULTS.get(key)))
        if found is None:
            return None
        if not isinstance(found, str) or not found.strip() or "\n" in found:
            raise ConfigError(f"{where}: {key} must be a one-line, non-empty string")
        return found.strip()

    kind, command, terminal = value("kind"), value("command"), value("terminal")
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if terminal not in TERMINALS:
        raise ConfigError(f"{where}: terminal must be one of {', '.join(TERMINALS)}")
    assert command is not None
    _check_command(command, "command", where)
    resume = value("resume") or default_resume(command)
    _check_command(resume, "resume", where)
    app = value("app")
    if app is not None and not PROFILE_NAME.fullmatch(app):
        raise ConfigError(f"{where}: app must be a name of letters, digits, '.', '_' or '-'")
    if kind == "gui" and app is None:
        raise ConfigError(
            f"{where}: a gui agent needs app = NAME (its layout profile, recorded once by "
            "swarm agents calibrate --app NAME)"
        )
    env = parse_env(section.get("env"), f"{where.rsplit('.agent.', 1)[0]}: env")
    env.update(parse_env(own.get("env"), f"{where}: env"))
    nice_where = where if "nice" in own else where.rsplit(".agent.", 1)[0]
    nice = parse_nice(own.get("nice", section.get("nice", DEFAULT_NICE)), nice_where)
    return Launch(
        agent, kind, command, resume, terminal, app, value("class"), tuple(env.items()), nice
    )


def parse_nice(value: Any, where: str) -> int:
    """``nice``: a whole number from 0 (as swarm's own) to 19 (the lowest priority)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 19:
        raise ConfigError(f"{where}: nice must be a whole number from 0 to 19, not {value!r}")
    return value


def parse_env(value: Any, where: str) -> dict[str, str]:
    """An ``env`` table (name -> a value, or ``$NAME`` of swarm's environment) or list of
    names (each ``$NAME``); ConfigError naming the key (never a value) on the first problem."""
    if value is None:
        return {}
    if isinstance(value, list):
        if not all(isinstance(name, str) for name in value):
            raise ConfigError(f"{where}: a list of env must hold variable names")
        value = {name: f"${name}" for name in value}
    if not isinstance(value, Mapping):
        raise ConfigError(f'{where} must be a table of NAME = "value" or a list of names')
    found = {}
    for name, given in value.items():
        if not ENV_NAME.fullmatch(name):
            raise ConfigError(f"{where}: {name!r} is not a variable name")
        if not isinstance(given, str) or "\n" in given or "\0" in given:
            raise ConfigError(f"{where}: {name} must be a one-line string")
        if given.startswith("$") and not ENV_NAME.fullmatch(given[1:]):
            raise ConfigError(f"{where}: {name} names no variable ($NAME)")
        if not given.startswith("$") and SECRET_NAME.search(name):
            raise ConfigError(
                f"{where}: {name} looks secret: name it, never write it "
                f'({name} = "${name}", taken from swarm\'s environment)'
            )
        found[name] = given
    return found


def launch_env(launch: Launch, environ: Mapping[str, str]) -> dict[str, str]:
    """The agent's ``env`` with each ``$NAME`` taken from ``environ`` (swarm's own);
    ConfigError naming the variable (never a value) when one is not set or holds a line
    break."""
    found = {}
    for name, given in launch.env:
        if not given.startswith("$"):
            found[name] = given
            continue
        value = environ.get(given[1:])
        where = f'[desktop.agent.{launch.agent}.env] {name} = "{given}"'
        if value is None:
            raise ConfigError(f"{where}: {given[1:]} is not set in swarm's environment")
        if "\n" in value or "\0" in value:
            raise ConfigError(f"{where}: {given[1:]} holds a line break: not passed")
        found[name] = value
    return found


def _check_command(command: str, key: str, where: str) -> None:
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"{where}: {key} is not a valid command line: {exc}") from None
    if not words:
        raise ConfigError(f"{where}: {key} is empty")
    try:
        fill(command, "A", Path("/"))
    except (KeyError, IndexError, ValueError):
        raise ConfigError(
            f"{where}: {key} may use only {{agent}} and {{workspace}} (write {{{{ for a brace)"
        ) from None


def fill(command: str, agent: str, workspace: Path) -> str:
    """The command line with ``{agent}`` and ``{workspace}`` filled in (shell-quoted)."""
    return command.format(agent=shlex.quote(agent), workspace=shlex.quote(str(workspace)))
