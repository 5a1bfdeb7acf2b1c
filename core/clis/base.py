"""What swarm knows of one agent CLI (``AgentCli``); each CLI's module makes one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.clis.logs import LogReader


@dataclass(frozen=True)
class FirstStart:
    """A first-start offer of the CLI settled as a user would, by a documented setting it
    reads: ``key`` = ``value`` in the JSON file ``path`` of the folder it starts in, written
    by ``swarm desktop up`` unless the file says ``key`` already; ``offer`` is the screen it
    settles, in the CLI's words."""

    path: str
    key: str
    value: Any
    offer: str


@dataclass(frozen=True)
class AgentCli:
    """One agent CLI.

    ``name`` is the agents file's ``cli`` value and its rule file's name
    (core/agents/agent_rules/NAME.toml); ``programs`` the executables that start it;
    ``resume_option`` is added to the command to continue the last conversation, or
    ``resume_subcommand`` put right after the program; ``hooks`` names the hook files swarm
    writes into its workspace (``"claude"``: .claude/settings.local.json, ``"codex"``:
    .codex/ files; None: it runs no hooks of swarm's, its pane alone tells its state);
    ``turn_start`` the hook events that say it took a prompt; ``env`` what its launch needs
    in the environment (set only where the user's environment does not); ``launch_args``
    what ``swarm desktop up`` puts right after the program (unless the command says it).

    ``mcp`` names the file swarm's MCP server goes in (``"claude"``: .mcp.json, ``"codex"``:
    .codex/config.toml, ``"gemini"``: .gemini/settings.json, ``"opencode"``: opencode.json;
    None: it reads no MCP server); ``reports_by_mcp``: its agents have swarm's MCP tools unless
    the agents file says ``mcp = false`` (Codex CLI: its shell may be sandboxed from swarm's
    home, its MCP servers are not). Its keys are an agent's defaults when the agents file does
    not say them: ``reset`` the steps that start a fresh conversation (key combinations, or
    ``"text:..."`` typed), ``submit`` the key that sends the prompt, ``clear`` editing keys
    that empty its input (never a key that means something else to it). The wait from a
    paste to the submit key is the routes' (``GuiOptions.submit_gap_s``, ``settle_s``), the
    same for every CLI (Gemini CLI's need).

    ``debug_log`` names the environment variable by which the CLI writes a debug log, which
    swarm sets at launch (``core.clis.logs.log_path``) and reads with ``log_reader`` for what
    the screen does not show (Gemini CLI's retries of a 429 or a 5xx).

    ``protocol`` is the structured protocol swarm speaks to it (``"acp"``: Zed's Agent Client
    Protocol, JSON-RPC on its standard input and output; ``"stream-json"``: Claude Code's own
    JSON lines, whose flags the host adds), None: no protocol route (``delivery =
    "protocol"`` is refused); ``protocol_args`` make it speak it, put right after the program
    (``--acp``, a subcommand ``acp``); ``protocol_adapter`` a program that speaks it for the
    CLI instead, given the command's arguments (Codex's ``codex-acp``).

    ``credentials`` names the environment variables that hold the credential it runs with,
    the first set wins (an agent's derived account is its CLI and a fingerprint of it:
    ``core.accounts``).
    """

    name: str
    title: str
    programs: tuple[str, ...]
    hooks: str | None = None
    resume_option: str | None = None
    resume_subcommand: str | None = None
    turn_start: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    launch_args: tuple[str, ...] = ()
    mcp: str | None = None
    reports_by_mcp: bool = False
    reset: tuple[str, ...] = ("text:/clear", "enter")
    submit: str = "enter"
    clear: tuple[str, ...] = ("ctrl+e", "ctrl+u")  # end of line, delete to its start
    debug_log: str | None = None
    log_reader: LogReader | None = None
    protocol: str | None = None
    protocol_args: tuple[str, ...] = ()
    protocol_adapter: str | None = None
    first_start: tuple[FirstStart, ...] = ()
    credentials: tuple[str, ...] = ()

    @property
    def speaks_protocol(self) -> bool:
        """Whether swarm can drive it over a protocol (``delivery = "protocol"``)."""
        return self.protocol is not None
