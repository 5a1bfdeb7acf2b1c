"""opencode: ``opencode``. Mouse reporting off: a delivery's click on its window would open
its "Message Actions" dialog and the paste would go there. ``/new`` starts a new session
(1.18.33's command list); its Ctrl+C empties the input but also quits, so its clear keys are
Ctrl+E and Ctrl+U (its ``input_line_end`` and ``input_delete_to_line_start``). Over ACP it
retries a 429 or a 5xx unsaid: its own log says them (``stream_log``). Its build agent runs
every command unasked, swarm's reports too: no ``report_args``.

Through swarm's gateway (a sandbox's own network): its provider's ``baseURL`` and ``apiKey``
live in the person's ``opencode.json``, which reads a variable as ``{env:NAME}``; the recipe
names ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` there (its bundled ``@ai-sdk/openai`` reads
the same two when its ``openai`` provider is given none), so the gateway's port and the
placeholder reach it inside without swarm writing the file. It asks every Chat Completions
stream of an ``@ai-sdk/openai-compatible`` provider for its usage (``includeUsage``, unless
the config says false), its session's title request too, which its database never records."""

from pathlib import Path
from typing import Any

from core.clis.base import AgentCli, ModelChoice, ModelWire, SessionFiles, SessionLog
from core.clis.mcp_files import JsonFile, Server
from core.clis.opencode import database, stream_log


def _entry(server: Server) -> dict[str, Any]:
    """opencode's ``local`` server: the whole command line as one list."""
    return {
        "type": "local",
        "command": [server.command, *server.args],
        "environment": dict(server.env),
        "enabled": True,
    }


MCP = JsonFile(Path("opencode.json"), "mcp", _entry).files()

CLI = AgentCli(
    name="opencode",
    # npm_config_offline: its recipe's, so its start's install of @opencode-ai/plugin asks
    # nothing (npm's other settings can hold a token: not these)
    env_family=("OPENCODE_*", "OPENAI_*", "ANTHROPIC_*", "npm_config_offline"),
    credentials=("OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
    model_wire=ModelWire(  # its opencode.json: {env:OPENAI_BASE_URL}, {env:OPENAI_API_KEY}
        "openai",
        "OPENAI_BASE_URL",
        "https://api.openai.com",
        keys=("OPENAI_API_KEY",),
        token="OPENAI_API_KEY",
        suffix="/v1",
    ),
    title="opencode",
    placeholders=(r'Ask anything… ".*"',),
    programs=("opencode",),
    folder=Path(__file__).parent,
    state=(
        ".local/share/opencode/",
        ".config/opencode/",
        ".cache/opencode/",
        ".local/state/opencode/",
    ),
    mcp=MCP,
    env={"OPENCODE_DISABLE_MOUSE": "1"},
    reset=("text:/new", "enter"),
    # 1.18.33: one Escape only arms the interrupt ("esc again to interrupt", for 5 s), the
    # second stops the turn; pressed before the first was read, a busy opencode reads the
    # two as one Alt+Escape and the turn runs on (panes/...-interrupt-armed.txt)
    interrupt=("escape", "escape"),
    interrupt_armed=r"\besc again to interrupt\b",
    protocol="acp",
    protocol_args=("acp",),  # ACP built in (1.18)
    # 1.18.33 ends a turn with its last model request's usage alone: its database
    protocol_usage="sessions",
    sessions=SessionFiles(
        "XDG_DATA_HOME", ".local/share", database.data_dir, database.reader, database.NAME
    ),
    session_log=SessionLog(stream_log.log_file, stream_log.retries),
    model=ModelChoice(("-m", "--model")),  # else its opencode.json's (provider/model)
)
