"""What a failed request to Discord means to the notifier (``core/coordinator/post_loop.py``
does the rest: posts anew, skips, retries, records).

Discord refuses for good a message, thread or channel that was deleted (404: 10008 Unknown
Message, 10003 Unknown Channel), what the bot may not see or do there (403: 50001 Missing
Access, 50013 Missing Permissions) and a payload it never takes (400, and any other 4xx but
429). Anything else (429, 5xx, a lost connection) fails for now: the loop tries again with
backoff.
"""

from __future__ import annotations

import discord

from core.coordinator.front_end import Failure
from core.formats.text import one_line, shorten


def discord_failure(exc: BaseException) -> Failure | None:
    """How a request to Discord failed: 404 gone, the other 4xx but 429 refused, the rest of
    what discord.py raises for now; None when ``exc`` is not Discord's."""
    if isinstance(exc, discord.HTTPException) and 400 <= exc.status < 500 and exc.status != 429:
        return Failure.gone if exc.status == 404 else Failure.refused
    if isinstance(exc, discord.DiscordException) or type(exc).__module__.startswith("discord"):
        return Failure.transient
    return None


def classify(exc: BaseException) -> Failure:
    """Whether ``exc`` (raised by a post or an edit) fails for good, and how (what is not
    Discord's, a lost connection: for now)."""
    return discord_failure(exc) or Failure.transient


def for_good(exc: BaseException) -> bool:
    """True when trying ``exc``'s request again cannot help."""
    return classify(exc) is not Failure.transient


def describe(exc: BaseException) -> str:
    """``404 Unknown Message (10008)``, ``503 Service Unavailable``, ``400 Invalid Form Body
    (50035): In content: ...``; another failure: its type and text (one line, at most 200
    characters)."""
    if isinstance(exc, discord.HTTPException):
        head, *details = (exc.text or "").removeprefix(f"{exc.status}: ").splitlines() or [""]
        code = f" ({exc.code})" if exc.code else ""
        more = f": {'; '.join(details)}" if details else ""
        return shorten(one_line(f"{exc.status} {head}{code}{more}"), 200)
    return shorten(one_line(f"{type(exc).__name__}: {exc}"), 200)
