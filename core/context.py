"""What every state change needs to know: agents, settings, the time and who acts."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidInput, NotFound
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
        found = self.agents.get(agent_id)
        if found is None:
            lowered = {a.lower(): a for a in self.agents}
            key = lowered.get(agent_id.strip().lower())
            found = self.agents.get(key) if key else None
        if found is None:
            known = ", ".join(self.agents)
            raise NotFound(f"unknown agent {agent_id!r}: agents are {known}")
        return found

    def roles(self) -> list[str]:
        """Every configured role, in config order, once."""
        return list(dict.fromkeys(a.role for a in self.agents.values()))

    def check_role(self, role: str) -> str:
        """The role if some agent has it; InvalidInput otherwise."""
        if role not in self.roles():
            raise InvalidInput(f"unknown role {role!r}: roles are {', '.join(self.roles())}")
        return role

    def check_text(self, text: str, what: str, limit: int | None = None) -> str:
        """Strip ``text``; refuse it when empty or over the configured limit."""
        text = text.strip()
        if not text:
            raise InvalidInput(f"{what} must not be empty")
        limit = limit or self.settings.max_text
        if len(text) > limit:
            raise InvalidInput(f"{what} is {len(text)} characters long: the limit is {limit}")
        return text
