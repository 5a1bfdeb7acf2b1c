"""Claude Code's permission dialog drawn as its saved pane draws it (80 columns), for any
command: the real dialog at an agent's input, or the same drawing printed by a program (a
fake: ``cat`` of a file) in the lines above it."""

from __future__ import annotations

from core.clis import panes

PERMISSION_PANE = panes("claude-code") / "permission.txt"
WIDTH = 80
OPTIONS = (
    "❯ 1. Yes",
    "  2. Yes, and don't ask again for {first} commands in /home/dev/project",
    "  3. No, and tell Claude what to do differently (esc)",
)


def box(*rows: str, width: int = WIDTH) -> list[str]:
    """Rows in Claude Code's rounded box, padded to its width."""
    inner = width - 4
    return [
        "╭" + "─" * (width - 2) + "╮",
        *(f"│ {row:<{inner}} │" for row in rows),
        "╰" + "─" * (width - 2) + "╯",
    ]


def dialog(*command: str, description: str | None = None, width: int = WIDTH) -> list[str]:
    """The permission dialog for a Bash ``command`` (its lines), as Claude Code draws it."""
    rows = ["Bash command", "", *(f"  {line}" for line in command)]
    if description is not None:
        rows.append(f"  {description}")
    first = command[0].split()[0]
    options = (o.format(first=first) for o in OPTIONS)
    return box(*rows, "", "Do you want to proceed?", *options, width=width)


def saved_dialog() -> list[str]:
    """The saved pane's dialog (its last 11 lines)."""
    return PERMISSION_PANE.read_text(encoding="utf-8").split("\n")[4:15]
