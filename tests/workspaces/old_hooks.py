"""Hooks as an earlier swarm wrote them, for the rewrites that bring them up to date."""

from __future__ import annotations

import shlex
from pathlib import Path

from core.workspaces._reservation_hook import install


def check_without_door(command: list[str], agent: str) -> str:
    """The check as swarm wrote it before the door's (the same code, the door's branch
    left out)."""
    words = " ".join(shlex.quote(w) if "=" not in w else _env(w) for w in command)
    program = next((w for w in command if "=" not in w), "")
    return (
        f"if [ -x {shlex.quote(program)} ]; then\n"
        f"  {words} reservations check-commit --agent {shlex.quote(agent)} || exit $?\n"
        "else\n"
        f'  echo "swarm: {program} is gone: file reservations not checked" >&2\n'
        "fi\n"
    )


def _env(pair: str) -> str:
    name, value = pair.split("=", 1)
    return f"{name}={shlex.quote(value)}"


def write_old_hook(tree: Path, command: list[str], agent: str) -> Path:
    """``tree``'s pre-commit as swarm wrote it before the door's check; its path."""
    folder = install(tree, command, agent)
    hook = folder / "pre-commit"
    text = hook.read_text()
    ours = text.index("if [ -x /run/swarm/swarm ]")
    hand_over = text.index("if [ -x", text.index("\nfi\n", ours))
    hook.write_text(text[:ours] + check_without_door(command, agent) + text[hand_over:])
    return hook
