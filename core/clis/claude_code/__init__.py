"""Claude Code (Anthropic): ``claude``. ``/clear`` starts a new session with empty context
(2.1.328's own command list: "Start a new session with empty context", aliases ``reset``,
``new``). Its protocol route is its own stream-json (the one its Agent SDKs speak), not ACP:
``@zed-industries/claude-agent-acp`` 0.23.1 bundles an SDK written for Claude Code 2.1.83, and
its ``session/new`` fails with "Query closed before response received" against 2.1.328.

A user's first start of 2.1.328 may offer "Try the new fullscreen renderer?" (decided per user,
shown up to three times until answered): its ``tui`` setting ("default": the classic renderer,
what "Not now" keeps; read from the workspace's ``.claude/settings.local.json`` too, like its
other settings) settles it; the CLI offers it only while ``tui`` is not set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.clis.base import (
    REPORT_COMMANDS,
    AgentCli,
    FirstStart,
    ModelChoice,
    ModelWire,
    SessionFiles,
)
from core.clis.claude_code import transcript
from core.clis.claude_code.hooks import HOOKS
from core.clis.mcp_files import NAME, JsonFile

if TYPE_CHECKING:
    from core.hosts.turns import Driver, Launched

MCP = JsonFile(Path(".mcp.json"), "mcpServers").files()


def stream_json_driver(launched: Launched) -> Driver:
    """The host's driver of Claude Code's stream-json (imported by the host alone: every
    ``swarm`` command imports the CLIs, and a hook: the wire's models are the host's)."""
    from core.clis.claude_code.stream_json import StreamJsonDriver

    return StreamJsonDriver(launched)


def report_args(swarm: str) -> tuple[str, ...]:
    """Claude Code's allow rules for the agent's own reports: ``Bash(SWARM task done:*)``
    and the like (a prefix: a command chained after one is still asked, measured with
    2.1.328) and every tool of swarm's MCP server (``mcp__swarm``)."""
    rules = [f"Bash({swarm} {command}:*)" for command in REPORT_COMMANDS]
    return ("--allowedTools", *rules, f"mcp__{NAME}")


CLI = AgentCli(
    name="claude-code",
    env_family=(
        "ANTHROPIC_*",
        "CLAUDE_*",
        "DISABLE_*",
        "API_TIMEOUT_MS",
        "MAX_THINKING_TOKENS",
        "MCP_TIMEOUT",
        "BASH_*_TIMEOUT_MS",
        "IS_SANDBOX",
    ),
    credentials=("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"),
    model_wire=ModelWire(  # inside, a bearer token Claude Code sends without a key dialog
        "anthropic",
        "ANTHROPIC_BASE_URL",
        "https://api.anthropic.com",
        keys=("ANTHROPIC_API_KEY",),
        token="ANTHROPIC_AUTH_TOKEN",
    ),
    title="Claude Code",
    placeholders=(r'Try ".*"', "Resend your message to try again"),
    programs=("claude",),
    folder=Path(__file__).parent,
    state=(".claude/", ".claude.json", ".claude.json.backup"),
    state_seeds=((".claude.json", "{}\n"),),  # an empty file: "was empty", it says
    hooks=HOOKS,
    mcp=MCP,
    resume_option="--continue",
    turn_start=("UserPromptSubmit",),
    reset=("text:/clear", "enter"),
    protocol="stream-json",  # its own (the host adds -p and the stream-json flags)
    protocol_driver=stream_json_driver,
    report_args=report_args,
    first_start=(
        FirstStart(
            ".claude/settings.local.json", "tui", "default", "Try the new fullscreen renderer?"
        ),
    ),
    sessions=SessionFiles(
        "CLAUDE_CONFIG_DIR", ".claude", transcript.transcript_dir, transcript.reader
    ),
    # 2.1.328's default model; over stream-json it gives each turn's cost itself
    model=ModelChoice(env=("ANTHROPIC_MODEL",), default="claude-opus-5-5", cli_cost=("protocol",)),
)
