"""Text helpers shared by the front ends (no discord import)."""

from __future__ import annotations

DISCORD_LIMIT = 2000


def split_text(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, split at line ends if possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines():
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in an ellipsis when it was longer."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _is_control(char: str, keep: str) -> bool:
    """C0/C1 controls and DEL (``keep`` lists the ones allowed), bidi overrides and isolates."""
    code = ord(char)
    if char in keep:
        return False
    return code < 0x20 or 0x7F <= code <= 0x9F or char in _BIDI


_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
MULTI_LINE = "\n\t"


def control_chars(text: str, keep: str = "") -> list[str]:
    """The control characters in ``text`` (other than those in ``keep``), in order, once."""
    return list(dict.fromkeys(c for c in text if _is_control(c, keep)))


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with every control character (but those in ``keep``) shown as ``\\x1b``...

    For output: a title or note never moves the cursor, clears a line or recolours the
    terminal (or a Discord code block) of whoever reads it. Lone surrogates (bytes that
    were not UTF-8) are escaped the same way, so printing never fails.
    """
    if text.isprintable() and text.isascii():
        return text
    out = []
    for char in text:
        if _is_control(char, keep) or 0xD800 <= ord(char) <= 0xDFFF:
            out.append(f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def one_line(text: str) -> str:
    """``text`` escaped so that it prints as exactly one line (errors, table cells)."""
    return escape_controls(text)


CUT_MARK = "\n[… {cut:,} of {total:,} characters cut here{more} …]\n"


def head_tail(text: str, limit: int, more: str = "", mark: str = CUT_MARK) -> str:
    """``text`` whole when it fits in ``limit`` characters; else its head and its tail with
    ``mark`` between them, saying how many characters were cut (``{cut}`` of ``{total}``)
    and ``more``: where to read them all. The end of a command is never the part cut."""
    total = len(text)
    if total <= limit:
        return text
    room = limit - len(mark.format(cut=total, total=total, more=more))
    if room < 2:
        return shorten(text, limit)
    tail = room // 2
    head = room - tail
    cut = total - head - tail
    return text[:head] + mark.format(cut=cut, total=total, more=more) + text[total - tail :]
