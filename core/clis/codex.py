"""Codex CLI (OpenAI): ``codex``."""

from core.clis.base import AgentCli

CLI = AgentCli(
    name="codex",
    title="Codex CLI",
    programs=("codex",),
    hooks="codex",
    resume_subcommand="resume --last",
)
