"""Colour on a terminal, plain text everywhere else: a few ANSI SGR codes, no dependency.

Colour is used when stdout is a terminal, ``NO_COLOR`` is not set (any non-empty value turns
it off, see no-color.org) and ``TERM`` is not ``dumb``; piped output is never coloured.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO

CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34",
         "magenta": "35", "cyan": "36"}
# task statuses, agent states, doctor findings: the words the tables colour
WORD_STYLES = {
    "done": "green", "failed": "red", "cancelled": "dim", "skipped": "dim",
    "in_progress": "cyan", "assigned": "blue", "ready": "yellow", "blocked": "magenta",
    "idle": "green", "working": "cyan", "paused": "yellow", "stalled": "red",
    "unreachable": "red",
    "ok": "green", "PROBLEM": "bold red", "urgent": "bold red", "high": "yellow",
}


class Painter:
    """Wraps text in ANSI colour codes when ``on``; returns it unchanged otherwise."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, style: str | None) -> str:
        """``text`` in ``style`` (words of :data:`CODES`, e.g. ``"bold red"``)."""
        if not (self.on and style and text):
            return text
        codes = ";".join(CODES[word] for word in style.split())
        return f"\x1b[{codes}m{text}\x1b[0m"

    def word(self, text: str) -> str:
        """A status word in its colour (``done`` green, ``failed`` red ...)."""
        return self(text, WORD_STYLES.get(text))


PLAIN = Painter(False)


def colour_wanted(stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` (default stdout) is a terminal that should get colour."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream or sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def painter() -> Painter:
    """The painter for this process's stdout."""
    return Painter(colour_wanted())
