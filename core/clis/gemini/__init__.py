"""Gemini CLI (Google): ``gemini``. An Enter within 40 ms of a paste is a newline to it
(the desktop driver's ``submit_gap_s``, the tmux route's ``settle_s``). ``/clear`` clears the
conversation and starts a new session (0.61's docs/reference/commands.md; its Ctrl+L only
redraws the screen). Its debug log tells its retries (``debug_log``). No ``report_args``:
its ``--allowed-tools`` refuses every other shell command once one is allowed (0.61); its
agents' reports run unasked by a policy file swarm writes in the workspace (``policy``)."""

from pathlib import Path
from typing import Any

from core.clis.base import AgentCli, ModelChoice, ModelWire, SessionFiles
from core.clis.gemini import chats, policy
from core.clis.gemini.debug_log import retries
from core.clis.mcp_files import JsonFile, Server


def _entry(server: Server) -> dict[str, Any]:
    """Gemini CLI's entry: the ``mcpServers`` one, trusted (its tools run without a
    confirmation dialog each call: they act on swarm's own tasks only, as this agent)."""
    return {**server.entry(), "trust": True}


MCP = JsonFile(Path(".gemini") / "settings.json", "mcpServers", _entry).files(
    "Gemini CLI reads .gemini/settings.json in a trusted folder only (its trust dialog, or "
    "gemini trust)"
)

CLI = AgentCli(
    name="gemini",
    env_family=("GEMINI_*", "GOOGLE_*"),
    credentials=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    model_wire=ModelWire(
        "gemini",
        "GOOGLE_GEMINI_BASE_URL",
        "https://generativelanguage.googleapis.com",
        keys=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
        token="GEMINI_API_KEY",
    ),
    title="Gemini CLI",
    placeholders=("Type your message or @path/to/file",),
    programs=("gemini",),
    folder=Path(__file__).parent,
    state=(".gemini/",),
    report_rules=policy.install,
    remove_report_rules=policy.remove,
    mcp=MCP,
    reset=("text:/clear", "enter"),
    debug_log="GEMINI_DEBUG_LOG_FILE",
    log_reader=retries,
    protocol="acp",
    protocol_args=("--acp",),  # ACP built in (0.61)
    # 0.61.0 ends a turn with no usage (its _meta.quota: a count, no cache): its chats
    protocol_usage="sessions",
    sessions=SessionFiles(  # its home: $GEMINI_CLI_HOME, else $HOME (.gemini in it)
        "GEMINI_CLI_HOME", "", chats.chats_dir, chats.reader, chats.PATTERN
    ),
    # 0.61.0's default in a terminal (over ACP it runs gemini-3.1-pro-preview: priced too)
    model=ModelChoice(("-m", "--model"), ("GEMINI_MODEL",), default="gemini-3.8-flash"),
)
