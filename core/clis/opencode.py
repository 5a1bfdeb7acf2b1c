"""opencode: ``opencode``. Mouse reporting off: a delivery's click on its window would open
its "Message Actions" dialog and the paste would go there. ``/new`` starts a new session
(1.18.33's command list); its Ctrl+C empties the input but also quits, so its clear keys are
Ctrl+E and Ctrl+U (its ``input_line_end`` and ``input_delete_to_line_start``)."""

from core.clis.base import AgentCli

CLI = AgentCli(
    name="opencode",
    credentials=("OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
    title="opencode",
    programs=("opencode",),
    mcp="opencode",
    env={"OPENCODE_DISABLE_MOUSE": "1"},
    reset=("text:/new", "enter"),
    protocol="acp",
    protocol_args=("acp",),  # ACP built in (1.18)
)
