"""Aider: ``aider``."""

from core.clis.base import AgentCli

CLI = AgentCli(
    name="aider",
    title="Aider",
    programs=("aider",),
    resume_option="--restore-chat-history",
)
