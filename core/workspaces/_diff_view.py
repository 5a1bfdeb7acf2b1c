"""A task's diff (``git diff`` output) read as files of numbered lines: what the dashboard
shows per file with line numbers, and where a review comment's line text comes from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.formats.text import escape_controls

MAX_LINES = 20_000  # lines of a diff shown (the rest: `swarm task diff`)
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f"}
_ESCAPES |= {"r": "\r", "v": "\v"}


@dataclass(frozen=True)
class DiffLine:
    """One line of a file's diff: ``add``, ``del``, ``ctx`` or ``hunk`` (its header);
    ``old``/``new``: its numbers on each side (None on the side it is not on)."""

    kind: str
    old: int | None
    new: int | None
    text: str


@dataclass
class FileDiff:
    """One file's part of the diff: its path (the new side's; the old one when deleted)."""

    path: str
    old_path: str | None = None
    status: str = "modified"  # added, deleted, renamed, modified
    binary: bool = False
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def added(self) -> int:
        """Lines added."""
        return sum(1 for line in self.lines if line.kind == "add")

    @property
    def removed(self) -> int:
        """Lines removed."""
        return sum(1 for line in self.lines if line.kind == "del")


@dataclass
class ParsedDiff:
    """The files of a diff, and whether it was cut at ``MAX_LINES``."""

    files: list[FileDiff]
    cut: bool = False

    def line_text(self, path: str, line: int) -> str | None:
        """The text of line ``line`` (new side) of ``path`` when the diff shows it."""
        for found in self.files:
            if found.path == path:
                for shown in found.lines:
                    if shown.new == line and shown.kind in ("add", "ctx"):
                        return shown.text
        return None


def parse(diff: str, max_lines: int = MAX_LINES) -> ParsedDiff:
    """``git diff`` output as files of numbered lines; control characters escaped."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    old = new = 0
    count = 0
    for raw in diff.splitlines():
        if raw.startswith("diff --git "):
            current = FileDiff(path=_header_path(raw))
            files.append(current)
            continue
        if current is None:
            continue
        if count >= max_lines:
            return ParsedDiff(files, cut=True)
        hunk = _HUNK.match(raw)
        if hunk:
            old, new = int(hunk.group(1)), int(hunk.group(2))
            current.lines.append(DiffLine("hunk", None, None, _clean(raw)))
            count += 1
        elif not current.lines:
            _file_header(current, raw)
        elif raw.startswith("+"):
            current.lines.append(DiffLine("add", None, new, _clean(raw[1:])))
            new += 1
            count += 1
        elif raw.startswith("-"):
            current.lines.append(DiffLine("del", old, None, _clean(raw[1:])))
            old += 1
            count += 1
        elif raw.startswith(" ") or raw == "":
            current.lines.append(DiffLine("ctx", old, new, _clean(raw[1:])))
            old += 1
            new += 1
            count += 1
    return ParsedDiff(files)


def _file_header(current: FileDiff, raw: str) -> None:
    """The lines between ``diff --git`` and the first hunk."""
    name = raw[4:].rstrip("\t")  # git ends a name holding a space with a tab
    if raw.startswith("+++ ") and name != "/dev/null":
        current.path = _strip_prefix(_unquote(name))
    elif raw.startswith("--- ") and name != "/dev/null":
        current.old_path = _strip_prefix(_unquote(name))
    elif raw.startswith("new file mode"):
        current.status = "added"
    elif raw.startswith("deleted file mode"):
        current.status = "deleted"
    elif raw.startswith("rename from "):
        current.status = "renamed"
        current.old_path = _unquote(raw[len("rename from ") :])
    elif raw.startswith("rename to "):
        current.path = _unquote(raw[len("rename to ") :])
    elif raw.startswith("Binary files "):
        current.binary = True


def _header_path(raw: str) -> str:
    """The path of ``diff --git a/X b/X`` (the ``+++`` line, when there is one, says better)."""
    rest = raw[len("diff --git ") :]
    if not rest.startswith('"') and len(rest) % 2 == 1:
        return _strip_prefix(rest[len(rest) // 2 + 1 :])  # "a/X b/X": the second half
    return _strip_prefix(_unquote(rest.rsplit(" ", 1)[-1]))


def _strip_prefix(path: str) -> str:
    return path[2:] if path[:2] in ("a/", "b/") else path


def _unquote(text: str) -> str:
    """A path git quoted C-style (``"a/\\303\\251.txt"``) as text."""
    if not (text.startswith('"') and text.endswith('"') and len(text) >= 2):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if body[i + 1 : i + 4].isdigit():
                out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
            out += _ESCAPES.get(nxt, nxt).encode()
            i += 2
            continue
        out += char.encode()
        i += 1
    return escape_controls(out.decode("utf-8", "replace"))


def _clean(text: str) -> str:
    """A line's text with control characters escaped (tabs kept)."""
    return escape_controls(text, keep="\t")
