"""The agent CLIs swarm knows, one module each (``claude_code``, ``codex``, ``gemini``,
``aider``, ``opencode``): what it is launched by, how it resumes, which hooks it reads,
its rule file, the environment that keeps it quiet. Adding a CLI is one module here plus
its rule file and saved panes (core/agents/agent_rules/); ``CLIS`` lists them.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from core.clis import aider, claude_code, codex, gemini, opencode
from core.clis.base import AgentCli

CLIS: tuple[AgentCli, ...] = (
    claude_code.CLI,
    codex.CLI,
    gemini.CLI,
    aider.CLI,
    opencode.CLI,
)
BY_NAME = {cli.name: cli for cli in CLIS}

__all__ = ["BY_NAME", "CLIS", "AgentCli", "by_name", "for_command"]


def by_name(name: str | None) -> AgentCli | None:
    """The CLI of an agents file's ``cli`` key (None: unknown or not set)."""
    return BY_NAME.get(name) if name else None


def for_command(command: str) -> AgentCli | None:
    """The CLI a command line starts (``claude --model x``, ``/opt/bin/codex``, ``env A=1
    gemini``); None when its program is none of them."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    while words and (words[0] == "env" or "=" in words[0]):
        words = words[1:]  # "env A=1 B=2 prog", "A=1 prog"
    if not words:
        return None
    program = Path(words[0]).name
    return next((cli for cli in CLIS if program in cli.programs), None)
