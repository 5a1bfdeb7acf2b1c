"""Aider: ``aider``. ``/clear`` clears the chat history (0.86's ``cmd_clear``; ``/reset``
drops the added files too). It reads no MCP server. Ctrl+C stops its answer (0.86's
``KeyboardInterrupt`` handling; twice in a row at its input quits it), Escape does nothing."""

from pathlib import Path

from core.clis.base import AgentCli

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
    interrupt="ctrl+c",
)
