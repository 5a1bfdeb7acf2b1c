"""Gemini CLI (Google): ``gemini``. An Enter within 40 ms of a paste is a newline to it
(the desktop driver's ``submit_gap_s``, the tmux route's ``settle_s``). ``/clear`` clears the
conversation and starts a new session (0.61's docs/reference/commands.md; its Ctrl+L only
redraws the screen)."""

from core.clis.base import AgentCli

CLI = AgentCli(
    name="gemini",
    title="Gemini CLI",
    programs=("gemini",),
    mcp="gemini",
    reset=("text:/clear", "enter"),
)
