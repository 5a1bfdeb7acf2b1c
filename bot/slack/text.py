"""Text from agents, tasks and people made safe for Slack's mrkdwn: ``&``, ``<``, ``>``
escaped (so no ``<!channel>``, ``<!here>``, ``<!everyone>``, ``<@U...>`` or link of theirs
takes effect), the bare ``@channel``, ``@here`` and ``@everyone`` made inert, and each text
bounded to the Block Kit limit of where it goes, its head and tail kept."""

from __future__ import annotations

import re
from collections.abc import Callable

from core.formats.text import head_tail, one_line, shorten

SECTION_LIMIT = 3000  # a section block's text
BUTTON_LIMIT = 75  # a button's label
FALLBACK_LIMIT = 3000  # a message's top-level text (notifications): what a section holds
_BROADCAST = re.compile(r"@(?=(channel|here|everyone)\b)", re.IGNORECASE)
_FENCE = re.compile(r"`(?=`)")  # a backtick another follows: ``` could close the fence


def escaped(text: str) -> str:
    """``text`` as mrkdwn shows it literally: ``&<>`` escaped, broadcasts inert (a word
    joiner after the ``@``)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060", text)


def unescaped(text: str) -> str:
    """What a person typed, from the mrkdwn Slack sends (``&amp;``, ``&lt;``, ``&gt;``: the
    only entities it uses)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def line(text: str, limit: int = SECTION_LIMIT) -> str:
    """``text`` as one escaped line of at most ``limit`` characters."""
    return _bounded(one_line(text), limit, shorten)


def block(text: str, limit: int = SECTION_LIMIT, more: str = "") -> str:
    """``text`` escaped, its lines kept, at most ``limit`` characters: its head and tail,
    the cut marked (``more``: where the rest is)."""
    return _bounded(text, limit, lambda t, n: head_tail(t, n, more))


def fenced(text: str, limit: int = SECTION_LIMIT, more: str = "") -> str:
    """``text`` as quoted material: in a code block it cannot close early (a zero-width
    space after each backtick another follows), escaped, within ``limit``."""
    body = block(_FENCE.sub("`\u200b", text), limit - 8, more) or " "
    return f"```\n{body}\n```"


def label(text: str) -> str:
    """A button's label: one plain line (no mrkdwn there, nothing to escape) of at most 75
    characters."""
    return shorten(one_line(text), BUTTON_LIMIT) or "?"


def _bounded(text: str, limit: int, cut: Callable[[str, int], str]) -> str:
    """Escape, then cut more until the escaped text fits (escaping lengthens it)."""
    size = limit
    for _ in range(8):
        shown = escaped(cut(text, size))
        if len(shown) <= limit:
            return shown
        size = max(1, size * limit // len(shown) - 1)
    return escaped(text[: limit // 5])
