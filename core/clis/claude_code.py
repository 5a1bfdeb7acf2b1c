"""Claude Code (Anthropic): ``claude``. ``/clear`` starts a new session with empty context
(2.1.328's own command list: "Start a new session with empty context", aliases ``reset``,
``new``)."""

from core.clis.base import AgentCli

CLI = AgentCli(
    name="claude-code",
    title="Claude Code",
    programs=("claude",),
    hooks="claude",
    mcp="claude",
    resume_option="--continue",
    turn_start=("UserPromptSubmit",),
    reset=("text:/clear", "enter"),
)
