"""Telegram's HTML parse mode as the Bot API checks it: the supported tags only, every ``<``
and ``&`` of the text escaped, tags closed in order; the plain text a client shows."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"code", "pre", "blockquote", "tg-emoji"}
)
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9A-Fa-f]{1,6});")


class EntityError(ValueError):
    """Text the HTML parse mode refuses (``Bad Request: can't parse entities: ...``)."""


def check_raw(text: str) -> None:
    """Every ``<`` starts a supported tag and every ``&`` an entity, as Telegram requires."""
    at = 0
    while (lt := text.find("<", at)) >= 0:
        tag = _TAG.match(text, lt)
        if tag is None:
            raise EntityError(f"unsupported start tag at byte offset {lt}")
        if tag[1].lower() not in TAGS:
            raise EntityError(f'unsupported start tag "{tag[1]}" at byte offset {lt}')
        at = tag.end()
    at = 0
    while (amp := text.find("&", at)) >= 0:
        if _ENTITY.match(text, amp) is None:
            raise EntityError(f"can't find end of the entity starting at byte offset {amp}")
        at = amp + 1


class _Plain(HTMLParser):
    """The text between the tags; tags must nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise EntityError(f'can\'t find end tag corresponding to start tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(raw: str) -> str:
    """The text a client shows for ``raw`` in the HTML parse mode; EntityError when Telegram
    would refuse it."""
    check_raw(raw)
    parser = _Plain()
    parser.feed(raw)
    parser.close()
    if parser.open:
        raise EntityError(f'can\'t find end tag corresponding to start tag "{parser.open[-1]}"')
    return html.unescape("".join(parser.parts))
