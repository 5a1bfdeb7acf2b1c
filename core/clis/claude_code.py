"""Claude Code (Anthropic): ``claude``. ``/clear`` starts a new session with empty context
(2.1.328's own command list: "Start a new session with empty context", aliases ``reset``,
``new``). Its protocol route is its own stream-json (the one its Agent SDKs speak), not ACP:
``@zed-industries/claude-agent-acp`` 0.23.1 bundles an SDK written for Claude Code 2.1.83, and
its ``session/new`` fails with "Query closed before response received" against 2.1.328."""

from core.clis.base import AgentCli

CLI = AgentCli(
    name="claude-code",
    credentials=("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"),
    title="Claude Code",
    programs=("claude",),
    hooks="claude",
    mcp="claude",
    resume_option="--continue",
    turn_start=("UserPromptSubmit",),
    reset=("text:/clear", "enter"),
    protocol="stream-json",  # its own (the host adds -p and the stream-json flags)
)
