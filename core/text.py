"""Text helpers shared by the front ends (no discord import)."""

from __future__ import annotations

DISCORD_LIMIT = 2000


def split_text(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, split at line ends if possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines():
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in an ellipsis when it was longer."""
    return text if len(text) <= width else text[: width - 1] + "…"
