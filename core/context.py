"""What every state change needs to know: agents, settings, the time and who acts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput, InvalidState, NotFound, PersonOnly
from core.formats.text import MULTI_LINE, control_chars, escape_controls
from core.models import Agent
from core.settings import Settings


@dataclass(frozen=True)
class Ctx:
    """The context of one state change."""

    agents: dict[str, Agent]
    settings: Settings
    now: float
    actor: str

    def agent(self, agent_id: str) -> Agent:
        """The configured agent ``agent_id`` (case-insensitive); NotFound otherwise."""
        return find_agent(self.agents, agent_id)

    def as_agent(self) -> str | None:
        """The configured agent acting (case-insensitive), or None for a person."""
        lowered = {a.lower(): a for a in self.agents}
        return lowered.get(self.actor.strip().lower())

    def require_person(self, what: str) -> None:
        """PersonOnly when the actor is a configured agent: ``what`` is a person's to decide
        (an agent never answers a prompt, a question or a gate, its own or another's)."""
        me = self.as_agent()
        if me is not None:
            raise PersonOnly(f"{what} is a person's decision, not {me}'s: nothing was done")

    def report_by(
        self, ref: str, holder: str | None, force: bool
    ) -> tuple[str, dict[str, Any] | None]:
        """Check who reports on a task held by ``holder``; return the event's suffix and data.

        The holder reports freely. A person (an actor that is no configured agent: ``cli``,
        ``discord:name``) may report for the holder, and is named. Another agent is refused
        (InvalidState naming the holder) unless ``force``, which is recorded as such.
        """
        me = self.as_agent()
        if holder is None or me == holder:
            return "", None
        if me is None:
            return f" (reported by {self.actor})", {"reported_by": self.actor}
        if not force:
            raise InvalidState(
                f"{ref} is held by {holder}, not {me}: only its agent reports "
                "on it (--force reports anyway, and is recorded)"
            )
        return (
            f" (forced by {me}; held by {holder})",
            {"forced": True, "reported_by": me, "holder": holder},
        )

    def roles(self) -> list[str]:
        """Every configured role, in config order, once."""
        return roles_of(self.agents)

    def check_role(self, role: str) -> str:
        """The role if some agent has it; InvalidInput otherwise."""
        if role not in self.roles():
            raise InvalidInput(f"unknown role {role!r}: roles are {', '.join(self.roles())}")
        return role

    def check_text(
        self, text: str, what: str, limit: int | None = None, *, one_line: bool = False
    ) -> str:
        """Strip ``text``; refuse it when empty, over the limit or holding control characters
        (a ``one_line`` field allows none; other text keeps newlines and tabs)."""
        text = check_chars(text.replace("\r\n", "\n").strip(), what, one_line=one_line)
        if not text:
            raise InvalidInput(f"{what} must not be empty")
        limit = limit or self.settings.max_text
        if len(text) > limit:
            raise InvalidInput(f"{what} is {len(text)} characters long: the limit is {limit}")
        return text


def check_chars(text: str, what: str, *, one_line: bool = True) -> str:
    """``text`` unchanged; InvalidInput when it holds control characters (``one_line``: any,
    else all but newline and tab) or bytes that were not UTF-8."""
    plain = text if one_line else text.replace("\n", "").replace("\t", "")
    if plain.isascii() and plain.isprintable():
        return text  # printable ASCII (the common case) holds none: no look at each character
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise InvalidInput(f"{what} is not valid UTF-8 text")
    found = control_chars(text, "" if one_line else MULTI_LINE)
    if found:
        shown = ", ".join(escape_controls(c) for c in found[:5])
        kind = (
            "one line without control characters"
            if one_line
            else "text without control characters (newlines and tabs are fine)"
        )
        raise InvalidInput(f"{what} must be {kind}, found {shown}")
    return text


def find_agent(agents: dict[str, Agent], agent_id: str) -> Agent:
    """The configured agent ``agent_id`` (case-insensitive); NotFound naming the agents."""
    found = agents.get(agent_id)
    if found is None:
        lowered = {a.lower(): a for a in agents}
        key = lowered.get(agent_id.strip().lower())
        found = agents.get(key) if key else None
    if found is None:
        known = ", ".join(agents)
        raise NotFound(f"unknown agent {agent_id!r}: agents are {known}")
    return found


def roles_of(agents: dict[str, Agent]) -> list[str]:
    """Every configured role, in config order, once."""
    return list(dict.fromkeys(a.role for a in agents.values()))
