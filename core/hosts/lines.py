"""Lines from a process that may write anything (an agent's output, a host's journal): each
read bounded, each parsed once, and what cannot be taken said in words, never a reason for a
reader to end.

``read_line`` reads one line of at most the stream's limit; a longer one is skipped whole and
given as ``Overlong`` (its size and first bytes). ``parse`` makes a line a JSON object or
says why it is none (not JSON, not an object, nested deeper than ``DEPTH_LIMIT``).
``bounded`` shrinks a journal entry to at most ``ENTRY_LIMIT`` bytes: its long strings cut to
a head and a tail with the size between, long lists cut, and at the last its bulky fields
dropped, said in its ``cut`` field.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

AGENT_LINE_LIMIT = 64 * 1024 * 1024  # bytes of one line an agent writes (an edit's diff twice)
HEAD = 4096  # bytes of an overlong line kept (its fields before the bulk)
DEPTH_LIMIT = 64  # objects and lists within each other; no agent's message nests deeper
ENTRY_LIMIT = 1024 * 1024  # bytes of one journal entry's line
# (characters of a string, items of a list) at each try; the last keeps only small fields
_CUTS = ((64 * 1024, 1000), (1024, 50))
_SMALL = 1024  # a field kept at the last try: its line at most this long
_MARK = "\n… [{:,} characters cut] …\n"


@dataclass(frozen=True)
class Overlong:
    """A line longer than the reader's limit, skipped: its size, its first ``HEAD`` bytes."""

    size: int
    head: bytes

    def head_fields(self) -> dict[str, Any]:
        """The scalar fields at the line's start (an entry's ``seq``, ``type`` and the small
        fields written before its bulk), as far as its head holds them whole."""
        found: dict[str, Any] = {}
        text = self.head.decode("utf-8", "replace")
        for match in _FIELD.finditer(text):
            key, value = match.group(1), match.group(2)
            if key not in found:
                found[key] = json.loads(value)
        return found


_FIELD = re.compile(
    r'[{,]\s*"(\w{1,40})"\s*:\s*("(?:[^"\\]|\\.){0,400}"|-?\d{1,20}(?:\.\d{1,20})?)\s*(?=[,}])'
)


async def read_line(reader: asyncio.StreamReader) -> bytes | Overlong:
    """The next line (with its newline; the last may lack one; b"" at the end), or
    ``Overlong`` for one over ``reader``'s limit, read past and dropped."""
    dropped, head = 0, b""
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:  # the end, within a line
            line = exc.partial
        except asyncio.LimitOverrunError as exc:
            chunk = await reader.read(max(exc.consumed, 1))
            head = head or chunk[:HEAD]
            dropped += len(chunk)
            continue
        if dropped:
            return Overlong(dropped + len(line), head)
        return line


def parse(line: bytes) -> dict[str, Any] | str:
    """``line`` as a JSON object, or why it is none (in words)."""
    try:
        found = json.loads(line)
    except RecursionError:
        return f"nested deeper than {DEPTH_LIMIT}"
    except ValueError:
        return "not JSON"
    if not isinstance(found, dict):
        return f"not a JSON object (a {type(found).__name__})"
    if _deeper_than(found, DEPTH_LIMIT):
        return f"nested deeper than {DEPTH_LIMIT}"
    return found


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` holds objects or lists more than ``limit`` deep (no recursion)."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            inner
            for outer in level
            for inner in (outer.values() if isinstance(outer, dict) else outer)
            if isinstance(inner, dict | list)
        ]
        if not level:
            return False
    return True


def shown(line: bytes, size: int = 80) -> str:
    """The start of a line a person may read in a message (no control characters)."""
    text = line[: size * 4].decode("utf-8", "replace").strip()
    text = "".join(c if c.isprintable() else " " for c in text)
    return text[:size] + ("…" if len(text) > size else "")


def bounded(entry: dict[str, Any], line: bytes) -> tuple[dict[str, Any], bytes]:
    """``entry`` and its ``line`` when at most ``ENTRY_LIMIT`` bytes, else a smaller entry
    and its line: strings and lists cut (``cut``: the entry's size before)."""
    if len(line) <= ENTRY_LIMIT:
        return entry, line
    note = {"bytes": len(line)}
    for chars, items in _CUTS:
        smaller = {**{k: _cut(v, chars, items) for k, v in entry.items()}, "cut": note}
        smaller_line = _encode(smaller)
        if len(smaller_line) <= ENTRY_LIMIT:
            return smaller, smaller_line
    small = {k: _cut(v, 200, 10) for k, v in entry.items()}
    kept = {k: v for k, v in small.items() if len(_encode(v)) <= _SMALL}
    smallest = {**kept, "cut": {**note, "dropped": sorted(set(entry) - set(kept))}}
    return smallest, _encode(smallest)


def _cut(value: Any, chars: int, items: int) -> Any:
    if isinstance(value, str):
        return cut_text(value, chars)
    if isinstance(value, dict):
        return {k: _cut(v, chars, items) for k, v in list(value.items())[:items]}
    if isinstance(value, list):
        return [_cut(v, chars, items) for v in value[:items]]
    return value


def cut_text(text: str, chars: int) -> str:
    """``text`` at most about ``chars`` long: its head and tail, the size cut between."""
    if len(text) <= chars:
        return text
    half = max(chars // 2, 1)
    return text[:half] + _MARK.format(len(text) - 2 * half) + text[-half:]


def _encode(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "replace") + b"\n"  # as ``wire.encode``


class GuardedTransport:
    """The ACP SDK's ``Transport`` over an agent's standard streams: each line it writes read
    bounded and parsed once, one that is no JSON-RPC object said to ``on_bad`` and skipped
    (the SDK's own reader ends its connection on a JSON value that is not an object, and
    joins a line of any size), as is one ``check`` says the SDK cannot take (it would drop
    it with only a traceback in the log); ``ended`` once its output closed."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_bad: Callable[[str], None],
        on_end: Callable[[], None],
        check: Callable[[dict[str, Any]], str | None] = lambda message: None,
    ) -> None:
        self.reader, self.writer = reader, writer
        self.on_bad, self.on_end, self.check = on_bad, on_end, check
        self.ended = False
        self._sending = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        """One message as its line to the agent's input."""
        async with self._sending:
            self.writer.write(_encode(message))
            await self.writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        """The agent's next message that is a JSON object; None at the end of its output."""
        while True:
            line = await read_line(self.reader)
            if isinstance(line, Overlong):
                await self._refuse(line)
                continue
            if not line:
                self.ended = True
                self.on_end()
                return None
            if not line.strip():
                continue
            found = parse(line)
            if isinstance(found, str):
                self.on_bad(f"a line that is {found}: {shown(line)!r}")
            elif (why := rpc_problem(found) or self.check(found)) is not None:
                self.on_bad(f"a line that is {why}: {shown(line)!r}")
            else:
                return found

    async def _refuse(self, line: Overlong) -> None:
        """An overlong line, said; a request among them answered with an error, so the
        agent does not wait for an answer that cannot come."""
        self.on_bad(f"a line of {line.size:,} bytes, over the limit: dropped")
        fields = line.head_fields()
        ident, method = fields.get("id"), fields.get("method")
        if isinstance(ident, int | str) and isinstance(method, str):
            error = {"code": -32600, "message": f"{method}: {line.size:,} bytes, over the limit"}
            await self.send({"jsonrpc": "2.0", "id": ident, "error": error})

    async def close(self) -> None:
        """Close the agent's input."""
        self.writer.close()


def rpc_problem(message: dict[str, Any]) -> str | None:
    """Why ``message`` is no JSON-RPC message the SDK can route (None: it is one): an ``id``
    that is no number or string, a ``method`` that is no string, an ``error`` that is no
    object."""
    ident = message.get("id")
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, int | str)):
        return "a JSON-RPC message whose id is no number or string"
    if "method" in message and not isinstance(message["method"], str):
        return "a JSON-RPC message whose method is no string"
    if "error" in message and not isinstance(message["error"], dict):
        return "a JSON-RPC response whose error is no object"
    return None
