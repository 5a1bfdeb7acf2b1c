"""What swarm's front ends (the ``swarm`` command, the dashboard) say about an error: one line
the user can act on, never a traceback."""

from __future__ import annotations

import errno

from core.errors import Busy, StoreError, SwarmError
from core.formats.text import one_line
from core.privacy.redact import redact_urls

_SQLITE_HINTS = (
    ("database is locked", "the database stayed busy longer than SWARM_BUSY_TIMEOUT: try again"),
    ("disk is full", "the disk is full: nothing was written; free some space and try again"),
    (
        "disk i/o error",
        "could not write the database (disk I/O error: is the disk full?): nothing was written",
    ),
    ("readonly", "cannot write to the database: SWARM_HOME is read-only"),
    (
        "unable to open",
        "cannot open the database: SWARM_HOME is read-only or not a folder you may write to",
    ),
    (
        "not a database",
        "the database file is damaged or not a swarm database: restore it "
        "from a backup or point SWARM_HOME elsewhere",
    ),
    (
        "malformed",
        "the database file is damaged: restore it from a backup or point SWARM_HOME elsewhere",
    ),
)


def describe(exc: BaseException) -> str | None:
    """The one-line message for an error the user can act on; None for a bug."""
    text = _text(exc)
    return None if text is None else one_line(redact_urls(text))


def _text(exc: BaseException) -> str | None:
    if isinstance(exc, SwarmError):
        return str(exc)
    if isinstance(exc, StoreError):
        detail = str(exc)
        hint = next((h for key, h in _SQLITE_HINTS if key in detail.lower()), None)
        if hint is None and isinstance(exc, Busy):
            hint = "the database stayed busy: try again"
        return f"{hint} ({detail})" if hint else f"database error: {detail}"
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, OverflowError):
        return f"a number is too large ({exc})"
    if isinstance(exc, UnicodeError):
        return "text that is not valid UTF-8 cannot be stored or shown"
    return None


def _os_error(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    where = f": {exc.filename}" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"the disk is full ({what}{where}): nothing was written"
    return f"{what}{where}"
