"""Who may send an agent work through GitHub: only people with write access (``admin``,
``maintain``, ``write`` as the collaborator-permission endpoint says). Anyone can open an
issue, comment or review a public repository's pull request; what they write reaches an
agent only when a writer vouched for it (labelled the issue, wrote the review), else it is
held for a person (``core/tasks/_held.py``).

The rules here are pure (events and edits in, a verdict out); :class:`Writers` asks GitHub.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.github.client import GitHub

WRITERS = frozenset({"admin", "maintain", "write"})


class Writers:
    """The permission of each login, asked of GitHub once per poll (``forget`` each poll:
    access can be taken away)."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def forget(self) -> None:
        """Ask again from now on."""
        self._known.clear()

    async def permission(self, client: GitHub, login: str | None) -> str:
        """``admin``, ``maintain``, ``write``, ``triage``, ``read`` or ``none``."""
        if not login:
            return "none"
        key = login.lower()
        if key not in self._known:
            self._known[key] = await client.permission(login)
        return self._known[key]

    async def writes(self, client: GitHub, login: str | None) -> bool:
        """True when ``login`` has write access to the repository."""
        return await self.permission(client, login) in WRITERS


@dataclass(frozen=True)
class Labelled:
    """The last ``labeled`` event of swarm's label on an issue: who, when, its id."""

    actor: str | None
    at: str  # GitHub's ISO time, e.g. 2024-05-01T10:00:00Z (compares as text)
    event_id: int


def last_label(events: Iterable[Mapping[str, Any]], label: str) -> Labelled | None:
    """Who applied ``label`` last, when (None if nobody did)."""
    found = None
    for event in events:
        if event.get("event") == "labeled" and (event.get("label") or {}).get("name") == label:
            actor = (event.get("actor") or {}).get("login")
            found = Labelled(actor, str(event.get("created_at") or ""), int(event.get("id") or 0))
    return found


@dataclass(frozen=True)
class Change:
    """A change of an issue's text after it was labelled: what, by whom, when."""

    what: str  # "title" or "body"
    by: str | None
    at: str


def changed_since(
    events: Iterable[Mapping[str, Any]], edits: Mapping[str, Any], label: Labelled
) -> list[Change] | None:
    """The title changes (``renamed`` events listed after the label's, in the events' own
    order) and body edits (GraphQL's ``userContentEdits``, by time: at or after the label's
    second counts, GitHub's times being whole seconds) made since a writer labelled the
    issue. The version the issue was created with is not an edit. None when the edit
    history is longer than what was read (nothing can be said for sure)."""
    listed = list(events)
    after = next((i for i, e in enumerate(listed) if e.get("id") == label.event_id), -1)
    found = [
        Change("title", (e.get("actor") or {}).get("login"), str(e.get("created_at") or ""))
        for e in listed[after + 1 :]
        if e.get("event") == "renamed"
    ]
    history = edits.get("userContentEdits") or {}
    newest_first = [n for n in history.get("nodes") or [] if n]  # GitHub's order
    nodes = sorted(reversed(newest_first), key=lambda n: str(n.get("editedAt") or ""))
    if int(history.get("totalCount") or 0) > len(nodes):
        return None
    if edits.get("includesCreatedEdit") and nodes:
        nodes = nodes[1:]  # the version it was created with
    found += [
        Change("body", (n.get("editor") or {}).get("login"), str(n.get("editedAt") or ""))
        for n in nodes
        if str(n.get("editedAt") or "") >= label.at
    ]
    return found
