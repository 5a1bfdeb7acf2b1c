"""The tmux route as a ``core.protocols.Route``: ``TmuxDeliverer`` pastes prompts and presses
decided prompts' keys into each agent's pane, and stops a turn with its CLI's own interrupt
key (``AgentCli.interrupt``: Escape, Aider's Ctrl+C)."""

from __future__ import annotations

from collections.abc import Sequence

from automation.route_base import DelivererRoute
from automation.tmux.delivery import METHOD, TmuxDeliverer
from core.clis import by_name
from core.models import Agent, Receipt
from core.protocols import Stop


class TmuxRoute(DelivererRoute[TmuxDeliverer]):
    """The agents with a tmux pane (``delivery = "tmux"``, and desktop agents when there is
    no desktop driver)."""

    name = METHOD

    @staticmethod
    def takes(agent: Agent) -> bool:
        """A tmux or desktop agent with a pane."""
        return agent.delivery in ("gui", METHOD) and bool(agent.tmux)

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """Failed: a pane's prompt is answered by keys (``press_keys``)."""
        return Receipt.failed(f"{agent.id} is not a protocol agent", METHOD, retryable=False)

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Into the agent's pane."""
        return await self.deliverer.press_keys(agent, keys)

    @staticmethod
    def can_stop(agent: Agent) -> bool:
        """An agent with a pane: its CLI's interrupt key."""
        return TmuxRoute.takes(agent)

    async def stop_turn(self, agent: Agent) -> Stop:
        """Its CLI's interrupt key pressed into its pane."""
        cli = by_name(agent.cli)
        if cli is None:
            return Stop.cannot("", 'its CLI is not known (cli = "..." in the agents file): no key')
        how = f"{cli.interrupt} in its tmux pane"
        receipt = await self.deliverer.press_keys(agent, [cli.interrupt])
        if not receipt.ok:
            return Stop.cannot(how, f"not stopped: {receipt.reason}")
        return Stop(True, how, f"{cli.title}'s interrupt key pressed ({how})")
