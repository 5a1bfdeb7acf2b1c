"""A flood of one log line is folded: earlier lines stay in the rotated log file."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.logs.fold import FoldRepeats
from core.logs.setup import configure_logging


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
            root.removeHandler(handler)
        for found in [f for f in handler.filters if isinstance(f, FoldRepeats)]:
            handler.removeFilter(found)
    root.setLevel(level)


def test_a_flood_of_accept_errors_does_not_rotate_the_log_away(
    tmp_path: Path, root_logging: None
) -> None:
    log = tmp_path / "swarm.log"
    configure_logging(
        env={"SWARM_LOG_FILE": str(log), "SWARM_LOG_MAX_BYTES": "100000", "SWARM_LOG_BACKUPS": "1"}
    )
    logging.getLogger("core.coordinator.scheduler").warning("an earlier line worth keeping")
    loop = asyncio.new_event_loop()
    try:
        with socket.socket() as listening:
            for _ in range(20_000):  # what asyncio logs for each refused accept (EMFILE)
                loop.call_exception_handler(
                    {
                        "message": "socket.accept() out of system resource",
                        "exception": OSError(errno.EMFILE, "Too many open files"),
                        "socket": listening,
                    }
                )
    finally:
        loop.close()
    logging.getLogger("core.coordinator.scheduler").warning("a later, different line")
    text = log.read_text()
    assert "an earlier line worth keeping" in text and "a later, different line" in text
    assert text.count("out of system resource") <= 5
    assert not (tmp_path / "swarm.log.1").exists()


def test_the_first_line_after_the_window_counts_what_was_left_out() -> None:
    now = [0.0]
    fold = FoldRepeats(burst=2, window_s=60, clock=lambda: now[0])

    def record(text: str) -> logging.LogRecord:
        return logging.LogRecord("x", logging.ERROR, __file__, 1, text, None, None)

    passed = [fold.filter(record("inbox write failed")) for _ in range(10)]
    assert passed == [True, True] + [False] * 8
    assert fold.filter(record("another line"))
    now[0] = 61.0
    later = record("inbox write failed")
    assert fold.filter(later)
    assert later.getMessage() == (
        "inbox write failed [repeated 8 more times in the previous 60 s, not logged]"
    )
    quiet = record("inbox write failed")
    assert fold.filter(quiet) and "repeated" not in quiet.getMessage()
