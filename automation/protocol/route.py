"""The protocol route as a ``core.protocols.Route``: ``ProtocolDeliverer`` for prompts and
answers, the host's cancel (ACP ``session/cancel``, Claude Code's ``interrupt``) to stop a
turn: answered once the turn ended (by the agent, or by the host when an ACP agent does not
answer within ``CANCEL_ANSWER_S``)."""

from __future__ import annotations

from collections.abc import Sequence

from automation.protocol.delivery import METHOD, ProtocolDeliverer
from automation.protocol.host import CANCEL_ANSWER_S
from automation.route_base import DelivererRoute
from core.hosts import client
from core.hosts.replies import Failed
from core.models import Agent, Receipt
from core.protocols import Stop

CANCEL = "the host's cancel"


class ProtocolRoute(DelivererRoute[ProtocolDeliverer]):
    """The agents of ``delivery = "protocol"``, each through its own host."""

    name = METHOD

    @staticmethod
    def takes(agent: Agent) -> bool:
        """A protocol agent."""
        return agent.delivery == METHOD

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """The option as the request's response, over the host's socket."""
        return await self.deliverer.answer(agent, request, option)

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Failed: nothing is typed into a protocol agent."""
        return await self.deliverer.press_keys(agent, keys)

    @staticmethod
    def can_stop(agent: Agent) -> bool:
        """Every protocol agent's host can cancel its turn."""
        return agent.delivery == METHOD

    async def stop_turn(self, agent: Agent) -> Stop:
        """The host's cancel; done when a turn was running."""
        try:
            answer = await client.cancel(self.deliverer.home, agent.id)
        except client.HostUnreachable as exc:
            return Stop.cannot(CANCEL, f"not stopped: {exc}")
        if isinstance(answer, Failed):
            return Stop.cannot(CANCEL, f"not stopped: {answer.reason or 'refused'}")
        if not answer.running:
            return Stop(False, CANCEL, "no turn was running (nothing to stop)")
        if answer.by_host:
            said = (f"its turn was stopped ({CANCEL}; its CLI did not answer the cancel within "
                    f"{CANCEL_ANSWER_S:g} s: the host ended the turn)")  # fmt: skip
            return Stop(True, CANCEL, said)
        return Stop(True, CANCEL, f"its turn was stopped ({CANCEL})")
