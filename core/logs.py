"""Logging set-up for every entry point: stderr, or a rotating file, always redacted."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from collections.abc import Mapping
from pathlib import Path

from core.logfold import install_folding
from core.private import open_file
from core.redact import install_log_redaction
from core.settings import env_number

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(env: Mapping[str, str], verbose: bool = False) -> None:
    """Log to ``SWARM_LOG_FILE`` (rotated at ``SWARM_LOG_MAX_BYTES``, keeping
    ``SWARM_LOG_BACKUPS`` old files) or to stderr; URL credentials are always redacted and
    a message repeated in a flood is folded (``core/logfold.py``)."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    path = (env.get("SWARM_LOG_FILE") or "").strip()
    if path:
        _add_file_handler(root, Path(path).expanduser(), env)
    elif not root.handlers:
        logging.basicConfig(format=FORMAT)
    install_log_redaction(root)
    install_folding(root)


def log_rotation(env: Mapping[str, str]) -> tuple[int, int]:
    """``SWARM_LOG_MAX_BYTES`` and ``SWARM_LOG_BACKUPS``: bytes per file, old files kept."""
    max_bytes = int(env_number(env, "SWARM_LOG_MAX_BYTES", 10_000_000, minimum=10_000, whole=True))
    return max_bytes, int(env_number(env, "SWARM_LOG_BACKUPS", 5, minimum=1, whole=True))


def _add_file_handler(root: logging.Logger, path: Path, env: Mapping[str, str]) -> None:
    max_bytes, backups = log_rotation(env)
    target = str(path.resolve())
    for handler in root.handlers:
        if getattr(handler, "baseFilename", None) == target:
            return
    handler = PrivateRotatingFileHandler(
        target, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created 0600 (the log repeats prompts and notes)."""

    def _open(self) -> io.TextIOWrapper:
        fd = open_file(Path(self.baseFilename), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # rotating: always "a"
