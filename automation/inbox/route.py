"""The inbox route as a ``core.protocols.Route``: ``InboxDeliverer`` writes each message as a
file; files take no answer, no keys, and no turn can be stopped through them."""

from __future__ import annotations

from collections.abc import Sequence

from automation.inbox.files import METHOD, InboxDeliverer
from automation.route_base import DelivererRoute
from core.models import Agent, Receipt
from core.protocols import Stop


class InboxRoute(DelivererRoute[InboxDeliverer]):
    """Every agent no other route at hand takes (the registry's last)."""

    name = METHOD

    @staticmethod
    def takes(agent: Agent) -> bool:
        """Any agent: files need nothing of it."""
        return True

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """Failed: files answer no request."""
        return Receipt.failed(f"{agent.id} is not a protocol agent", METHOD, retryable=False)

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Failed: files take no keys."""
        return Receipt.failed("no desktop driver for this agent", METHOD, retryable=False)

    @staticmethod
    def can_stop(agent: Agent) -> bool:
        """Never: a file cannot stop a turn."""
        return False

    async def stop_turn(self, agent: Agent) -> Stop:
        """Cannot, said for the agent's own route (files, or a window out of reach)."""
        where = "inbox files" if agent.delivery == METHOD else "a window with no tmux pane"
        return Stop.cannot(
            "", f"its route ({where}) has no way to stop a turn: stop it where it runs"
        )
