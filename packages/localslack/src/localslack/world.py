"""What the local Slack holds: one workspace, its users and channels, their messages (each
with its ``ts``, its thread's replies beside it) and the ephemeral messages each user saw."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True)
class User:
    """A member of the workspace (``U...``; a bot user's ``bot_id`` is ``B...``)."""

    id: str
    name: str
    bot_id: str | None = None


@dataclass(frozen=True)
class Channel:
    """A public channel (``C...``)."""

    id: str
    name: str


@dataclass
class Message:
    """A message of a channel; ``thread_ts``: the parent's ``ts`` for a reply."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[Json] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    edits: int = 0  # how many times chat.update changed it

    def to_json(self) -> Json:
        """The message as the Web API and events show it."""
        shown: Json = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        if self.blocks:
            shown["blocks"] = self.blocks
        if self.thread_ts is not None:
            shown["thread_ts"] = self.thread_ts
        if self.bot_id is not None:
            shown["bot_id"] = self.bot_id
        if self.edits:
            shown["edited"] = {"user": self.user, "ts": self.ts}
        return shown

    def buttons(self) -> list[Json]:
        """The buttons of its ``actions`` blocks, each with its ``block_id``."""
        return elements(self.blocks, "button")

    def selects(self) -> list[Json]:
        """The select menus (``static_select``) of its ``actions`` blocks."""
        return elements(self.blocks, "static_select")


def elements(blocks: Any, kind: str) -> list[Json]:
    """The interactive elements of type ``kind`` in ``blocks``' ``actions`` blocks, each with
    its block's ``block_id``."""
    return [
        {**element, "block_id": block.get("block_id", "")}
        for block in blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == kind
    ]


@dataclass(frozen=True)
class Ephemeral:
    """A message only ``user`` saw in ``channel`` (``chat.postEphemeral``, a command's
    answer)."""

    channel: str
    user: str
    text: str
    blocks: tuple[Json, ...] = ()
    ts: str = ""

    def buttons(self) -> list[Json]:
        """Its buttons, each with its ``block_id``."""
        return elements(self.blocks, "button")

    def selects(self) -> list[Json]:
        """Its select menus (``static_select``)."""
        return elements(self.blocks, "static_select")


class Ids:
    """Slack-shaped ids and increasing ``ts`` values."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self._last = 0.0

    def next(self, prefix: str) -> str:
        """``U0000001``, ``C0000002``..."""
        return f"{prefix}{next(self._n):07d}"

    def ts(self) -> str:
        """A message's ``ts``: seconds with six decimals, each one later than the last."""
        self._last = max(time.time(), self._last + 0.000001)
        return f"{self._last:.6f}"
