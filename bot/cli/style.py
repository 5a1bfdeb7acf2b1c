"""Colour and progress on a terminal, plain text everywhere else: ANSI codes, no dependency.

Colour is used when stdout is a terminal, ``NO_COLOR`` is not set (any non-empty value turns
it off, see no-color.org) and ``TERM`` is not ``dumb``; piped output is never coloured. A
progress spinner is drawn on stderr when it is a terminal that is not ``dumb``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping
from typing import TextIO

from core.waits import Background

CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
# task statuses, agent states, doctor findings: the words the tables colour
WORD_STYLES = {
    "done": "green",
    "failed": "red",
    "cancelled": "dim",
    "skipped": "dim",
    "in_progress": "cyan",
    "assigned": "blue",
    "ready": "yellow",
    "blocked": "magenta",
    "idle": "green",
    "working": "cyan",
    "paused": "yellow",
    "stalled": "red",
    "unreachable": "red",
    "waiting": "bold yellow",
    "limited": "magenta",
    "errored": "red",
    "offline": "dim",
    "unknown": "dim",
    "ok": "green",
    "PROBLEM": "bold red",
    "warning": "yellow",
    "urgent": "bold red",
    "high": "yellow",
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
    return not env.get("NO_COLOR") and live_terminal(stream or sys.stdout, env)


def live_terminal(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is a terminal that understands cursor moves (not ``TERM=dumb``)."""
    if (os.environ if env is None else env).get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@contextlib.asynccontextmanager
async def spinner(text: str, stream: TextIO | None = None) -> AsyncIterator[None]:
    """While the block runs, a spinner with ``text`` and the seconds so far on stderr when it
    is a live terminal (erased at the end); nothing at all otherwise."""
    out = stream or sys.stderr
    if not live_terminal(out):
        yield
        return
    drawing = Background("spinner")
    drawing.start(_spin(out, text), name="spinner")
    try:
        yield
    finally:
        await drawing.close()
        out.write("\r\x1b[K")
        out.flush()


async def _spin(out: TextIO, text: str) -> None:
    start = time.monotonic()
    for frame in itertools.cycle(SPINNER):
        out.write(f"\r{frame} {text} ({time.monotonic() - start:.0f} s)")
        out.flush()
        await asyncio.sleep(0.1)


def painter() -> Painter:
    """The painter for this process's stdout."""
    return Painter(colour_wanted())
