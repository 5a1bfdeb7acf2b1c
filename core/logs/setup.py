"""Logging set-up for every entry point: stderr, or a rotating file, always redacted.

A log file that cannot be opened or written (a full disk, a read-only folder) never stops a
command: one line on stderr says so, and the lines go to stderr instead.
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from core.logs.fold import install_folding
from core.privacy.files import open_file
from core.privacy.redact import install_log_redaction
from core.settings import LOG_BACKUPS, LOG_FILE, LOG_MAX_BYTES

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(env: Mapping[str, str], verbose: bool = False) -> None:
    """Log to ``SWARM_LOG_FILE`` (rotated at ``SWARM_LOG_MAX_BYTES``, keeping
    ``SWARM_LOG_BACKUPS`` old files) or to stderr; URL credentials are always redacted and
    a message repeated in a flood is folded (``core/logs/fold.py``)."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    path = LOG_FILE.read(env)
    to_file = bool(path) and _file_handler_added(root, Path(path).expanduser(), env)
    if not to_file and not root.handlers:
        logging.basicConfig(format=FORMAT)
    install_log_redaction(root)
    install_folding(root)


def log_progress() -> None:
    """Log INFO lines too, for a command that runs until stopped (``run``, ``node``, ``web``:
    what it does is its progress); one started with ``--verbose`` keeps its DEBUG lines."""
    root = logging.getLogger()
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)


def log_rotation(env: Mapping[str, str]) -> tuple[int, int]:
    """``SWARM_LOG_MAX_BYTES`` and ``SWARM_LOG_BACKUPS``: bytes per file, old files kept."""
    return int(LOG_MAX_BYTES.read(env)), int(LOG_BACKUPS.read(env))


def _file_handler_added(root: logging.Logger, path: Path, env: Mapping[str, str]) -> bool:
    """Log to ``path`` too (once); False, said in one line, when it cannot be opened."""
    max_bytes, backups = log_rotation(env)
    target = str(path.resolve())
    for handler in root.handlers:
        if getattr(handler, "baseFilename", None) == target:
            return True
    try:
        handler = PrivateRotatingFileHandler(
            target, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    except OSError as exc:
        _warn(f"cannot open the log file {target} ({exc.strerror or exc}): logging to stderr")
        return False
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return True


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created 0600 (the log repeats prompts and notes). A
    line that cannot be written (ENOSPC) goes to stderr, the first of a run of them after one
    line saying why (not logging's traceback for each)."""

    _failing = False  # the last line could not be written
    _erred = False  # the line being emitted could not be written

    def emit(self, record: logging.LogRecord) -> None:
        self._erred = False
        super().emit(record)
        self._failing = self._erred

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handleError(record)
            return
        self._erred = True
        if not self._failing:
            _warn(
                f"cannot write the log file {self.baseFilename} ({exc.strerror or exc}): "
                "its lines go to stderr until it can"
            )
        with contextlib.suppress(Exception):  # stderr gone too: nowhere left to say it
            sys.stderr.write(self.format(record) + "\n")

    def _open(self) -> io.TextIOWrapper:
        fd = open_file(Path(self.baseFilename), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # rotating: always "a"


def _warn(text: str) -> None:
    """One line on stderr (``swarm: warning: ...``), never an error of its own."""
    with contextlib.suppress(Exception):  # stderr gone too: nowhere left to say it
        sys.stderr.write(f"swarm: warning: {text}\n")
