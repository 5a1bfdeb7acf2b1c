"""Claude Code (Anthropic): ``claude``."""

from core.clis.base import AgentCli

CLI = AgentCli(
    name="claude-code",
    title="Claude Code",
    programs=("claude",),
    hooks="claude",
    resume_option="--continue",
    turn_start=("UserPromptSubmit",),
)
