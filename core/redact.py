"""Credentials never leave the process: URLs lose their ``user:password@`` before any text is
logged, printed or stored (one function, :func:`redact_urls`, used everywhere)."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# scheme://user[:password]@ up to the host; the userinfo may hold anything but / and @.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def redact_urls(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``[redacted]``."""
    if "@" not in text:
        return text
    return _USERINFO.sub(rf"\1{REDACTED}@", text)


class RedactingFilter(logging.Filter):
    """A handler filter that redacts URL credentials from each record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redacted (and the traceback text, if any)."""
        message = record.getMessage()
        clean = redact_urls(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_urls(record.exc_text)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add :class:`RedactingFilter` to every handler of ``logger`` (default: the root)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
