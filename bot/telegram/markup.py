"""Text for Telegram's HTML parse mode: what an agent, an issue or a person wrote is escaped
(``<``, ``>``, ``&``), its ``@username`` made inert (a word joiner after the ``@``: Telegram
links and notifies no one), and a message bounded to Telegram's 4,096 characters."""

from __future__ import annotations

import html
import re

from core.formats.text import escape_controls, head_tail, shorten

MESSAGE_LIMIT = 4096  # characters (UTF-16 code units) of a message's text, after parsing
BUTTON_TEXT_LIMIT = 64  # characters of a button's label shown (Telegram cuts longer ones)
_TAG = re.compile(r"<[^>]*>")
WORD_JOINER = "\u2060"


def quoted(text: str, limit: int | None = None) -> str:
    """``text`` as HTML that shows it literally: escaped, mentions inert, control characters
    shown as escapes, newlines kept; at most ``limit`` characters of it (shortened)."""
    plain = escape_controls(text, keep="\n")
    if limit is not None:
        plain = shorten(plain, limit)
    return html.escape(inert(plain), quote=False)


def quoted_cut(text: str, limit: int, more: str = "") -> str:
    """Like ``quoted``, its head and tail kept when longer than ``limit`` (``more``: where the
    whole is)."""
    plain = escape_controls(text, keep="\n")
    return html.escape(inert(head_tail(plain, limit, more)), quote=False)


def inert(text: str) -> str:
    """``@name`` → ``@⁠name``: no mention, no notification."""
    return text.replace("@", "@" + WORD_JOINER)


def visible_length(markup: str) -> int:
    """The length Telegram counts: the text without its tags, entities as one character,
    in UTF-16 code units."""
    plain = html.unescape(_TAG.sub("", markup))
    return len(plain.encode("utf-16-le")) // 2


def bounded(markup: str) -> str:
    """``markup`` when Telegram takes its length; else its text alone, shortened to fit
    (formatting dropped, nothing cut mid-entity)."""
    if visible_length(markup) <= MESSAGE_LIMIT:
        return markup
    plain = html.unescape(_TAG.sub("", markup))
    while len(plain.encode("utf-16-le")) // 2 > MESSAGE_LIMIT - 2:
        plain = plain[: len(plain) - max(1, (len(plain) - MESSAGE_LIMIT) // 2 + 1)]
    return html.escape(plain, quote=False) + "…"


def label(text: str) -> str:
    """A button's label: one line, bounded (buttons show text as is, no parse mode)."""
    return shorten(escape_controls(" ".join(text.split())), BUTTON_TEXT_LIMIT) or "?"
