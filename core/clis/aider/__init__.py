"""Aider: ``aider``. ``/clear`` clears the chat history (0.86's ``cmd_clear``; ``/reset``
drops the added files too). It reads no MCP server. One Ctrl+C stops its answer, streaming or
still waiting for the model, and leaves it at its input ("^C again to exit": 0.86.2 in a
pane); a second within 2 s quits it, so swarm presses one, and none at its idle input.
Escape does nothing."""

from pathlib import Path

from core.clis.base import AgentCli, ModelChoice

CLI = AgentCli(
    name="aider",
    env_family=("AIDER_*", "OPENAI_*", "ANTHROPIC_*"),
    credentials=("OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
    title="Aider",
    programs=("aider",),
    folder=Path(__file__).parent,
    state=(".aider/", ".aider.conf.yml", ".aider.model.settings.yml", ".aider.model.metadata.json"),
    resume_option="--restore-chat-history",
    reset=("text:/clear", "enter"),
    interrupt=("ctrl+c",),
    model=ModelChoice(env=("AIDER_MODEL",)),  # its default depends on the keys it finds
)
