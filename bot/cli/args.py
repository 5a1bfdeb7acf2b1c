"""Arguments shared by the CLI's command groups."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TypeVar

LIMIT_MAX = 1_000_000
F = TypeVar("F", bound=Callable[..., Any])


def only_reads(handler: F) -> F:
    """Mark a command's handler as one that only reads the store: when the database cannot
    be opened to write (a full disk), it is opened to read and the command still answers
    (``bot/cli/main.py``)."""
    handler.only_reads = True  # type: ignore[attr-defined]
    return handler


def reads_only(handler: Callable[..., Any]) -> bool:
    """Whether ``handler`` was marked with :func:`only_reads`."""
    return bool(getattr(handler, "only_reads", False))


def count_arg(maximum: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 0 to ``maximum``."""

    def parse(raw: str) -> int:
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or int(text) > maximum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from 0 to {maximum:,}, got {raw!r}"
            )
        return int(text)

    parse.__name__ = "count"
    return parse


def port_arg(raw: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {raw!r}")
    return int(text)


def seconds_arg(zero: bool = False) -> Callable[[str], float]:
    """An argparse type: a time in seconds, more than 0 (``zero``: or 0) and at most a day
    (no nan, no inf)."""
    least = "0 or more" if zero else "more than 0"

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not (value >= 0 if zero else value > 0) or not value <= 86400:
            raise argparse.ArgumentTypeError(
                f"expected seconds, {least} and at most 86,400, got {raw!r}"
            )
        return value

    parse.__name__ = "seconds"
    return parse


def json_option(parser: Any) -> None:
    """Add ``--json``: print the result as JSON."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def door_agent(args: argparse.Namespace) -> str | None:
    """The agent whose sandbox's door runs this command (``SWARM_DOOR_AGENT``, which only
    the door sets), None outside a door: it is shown its own items and tasks only."""
    from core.settings import DOOR_AGENT

    configuration = getattr(args, "configuration", None)
    found = None if configuration is None else DOOR_AGENT.read(configuration.env)
    return str(found) if found else None
