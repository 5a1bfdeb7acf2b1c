"""Claude Code (Anthropic): ``claude``. ``/clear`` starts a new session with empty context
(2.1.328's own command list: "Start a new session with empty context", aliases ``reset``,
``new``). Its protocol route is its own stream-json (the one its Agent SDKs speak), not ACP:
``@zed-industries/claude-agent-acp`` 0.23.1 bundles an SDK written for Claude Code 2.1.83, and
its ``session/new`` fails with "Query closed before response received" against 2.1.328.

A user's first start of 2.1.328 may offer "Try the new fullscreen renderer?" (decided per user,
shown up to three times until answered): its ``tui`` setting ("default": the classic renderer,
what "Not now" keeps; read from the workspace's ``.claude/settings.local.json`` too, like its
other settings) settles it; the CLI offers it only while ``tui`` is not set."""

from core.clis.base import AgentCli, FirstStart

CLI = AgentCli(
    name="claude-code",
    title="Claude Code",
    programs=("claude",),
    hooks="claude",
    mcp="claude",
    resume_option="--continue",
    turn_start=("UserPromptSubmit",),
    reset=("text:/clear", "enter"),
    protocol="stream-json",  # its own (the host adds -p and the stream-json flags)
    first_start=(
        FirstStart(
            ".claude/settings.local.json", "tui", "default", "Try the new fullscreen renderer?"
        ),
    ),
)
