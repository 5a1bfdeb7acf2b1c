"""Codex CLI (OpenAI): ``codex``. Started with its background app-server off: else one
outlives the agent's session (measured with 0.169: ``codex app-server --managed-daemon``
left running after its pane ended; none with the option). ``/new`` starts a new chat (0.169's
command list: "start a new chat during a conversation"; its ``/clear`` also clears the
terminal)."""

from core.clis.base import AgentCli

CLI = AgentCli(
    name="codex",
    title="Codex CLI",
    programs=("codex",),
    hooks="codex",
    mcp="codex",
    resume_subcommand="resume --last",
    launch_args=("-c", "features.daemon_auto_start=false"),
    turn_start=("UserPromptSubmit",),  # from its .codex/hooks.json
    reset=("text:/new", "enter"),
)
