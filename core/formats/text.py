"""Text helpers shared by the front ends (no discord import)."""

from __future__ import annotations

import re
import unicodedata

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


_BREAKS = re.compile(r"[ \t]*(?:\r\n|[\r\n\t])[\s]*")


def flat(text: str) -> str:
    """``text`` shown on one line as a reader would read it: its line breaks and tabs (and
    the blanks around them) as one space, every other control character escaped
    (``one_line`` escapes them all: for names and errors, where a newline must be seen)."""
    return escape_controls(_BREAKS.sub(" ", text))


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


# Format characters (Unicode category Cf) that show something: the prepended concatenation
# marks of Arabic, Syriac and Kaithi numbers. Every other one is invisible.
_SHOWN_FORMAT = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2")
_SHOWN_FORMAT |= frozenset("\U000110bd\U000110cd")
_JOINERS = frozenset("\u200c\u200d")  # zero-width non-joiner and joiner
ZWSP = "\u200b"


_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _is_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _is_base(char: str) -> bool:
    """A character a joiner or a variation selector may follow or join: it shows."""
    return not (
        char.isspace()
        or _is_selector(char)
        or char in _JOINERS
        or unicodedata.category(char) in ("Cf", "Cc")
    )


def _hidden(char: str) -> bool:
    """A format character or a variation selector that shows nothing (bidi controls: no,
    they are refused, not removed)."""
    if char in _BIDI or char in _SHOWN_FORMAT:
        return False
    return _is_selector(char) or unicodedata.category(char) == "Cf"


def strip_invisible(text: str) -> tuple[str, int]:
    """``text`` without its invisible characters, and how many there were.

    Invisible: the format characters (Unicode category Cf: the tag characters
    U+E0000-U+E007F a model reads as text that no one sees, zero-width spaces, word joiners,
    the byte order mark, soft hyphens...), except a zero-width joiner or non-joiner between
    two shown characters (emoji sequences, Persian and Indic scripts); and a variation
    selector that follows no shown character (a run of selectors carries hidden bytes). A
    zero-width space right after ``@`` stays: it is how swarm keeps a quoted mention from
    notifying anyone. The bidi controls are left to :func:`control_chars` (refused where
    they are checked).
    """
    if text.isascii():
        return text, 0
    plain = text.replace("\n", "").replace("\t", "")
    if plain.isprintable() and not _SELECTORS.search(plain):
        return text, 0  # no format character (not printable) and no selector: at C speed
    kept: list[str] = []
    for at, char in enumerate(text):
        if not _hidden(char):
            kept.append(char)
        elif char in _JOINERS:
            after = text[at + 1] if at + 1 < len(text) else " "
            joins = bool(kept) and (_is_base(kept[-1]) or _is_selector(kept[-1]))
            if joins and _is_base(after):
                kept.append(char)
        elif _is_selector(char) and kept and _is_base(kept[-1]):
            kept.append(char)
        elif char == ZWSP and kept and kept[-1] == "@":
            kept.append(char)  # a mention broken on purpose (@\u200beveryone)
    return "".join(kept), len(text) - len(kept)


def invisible_removed(count: int) -> str:
    """``3 invisible characters removed`` (events say what was taken out of a text)."""
    return f"{count} invisible character{'s' if count != 1 else ''} removed"


def dollars_text(value: float) -> str:
    """A sum of dollars as it was written, to the cent or finer: ``$5.00``, ``$0.009``,
    ``$1,234.50`` (``$0.01`` for a budget of $0.009 said a budget it was not)."""
    if round(value, 2) == value:
        return f"${value:,.2f}"
    return f"${value:,.6f}".rstrip("0")
