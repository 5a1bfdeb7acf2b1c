"""Messages to agents as the front ends ask for them (``service.messages``): send to one,
broadcast to all (or one role), and the deliveries that carry them."""

from __future__ import annotations

from core.delivery import _message_queries as message_queries
from core.delivery import _messages as messages
from core.delivery import _onboarding as onboarding
from core.models import Delivery
from core.store.access import StoreAccess


class MessageBook:
    """Queue messages to agents and read their deliveries (``service.messages``)."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def send(self, agent: str, text: str, actor: str) -> int:
        """Queue a message to one agent; return the message id."""
        return await self.access.write(actor, messages.send, agent, text)

    async def broadcast(self, text: str, actor: str, role: str | None = None) -> int:
        """Queue a message to all agents (or one role's); return the message id."""
        return await self.access.write(actor, messages.broadcast, text, role)

    async def deliveries(self, message_id: int | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries, newest first (or all of one message)."""
        return await self.access.read(message_queries.list_deliveries, message_id, limit)

    async def onboard(self, agent: str, actor: str) -> int:
        """Queue the agent's onboarding message and mark it onboarded; the message id."""
        return await onboarding.onboard(self.access, agent, actor)

    async def reset(self, agent: str, actor: str) -> int:
        """Queue the agent's reset action followed by its onboarding message; its id."""
        return await onboarding.reset(self.access, agent, actor)
