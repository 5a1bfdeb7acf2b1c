"""The desktop route as a ``core.protocols.Route``: ``GuiDriver`` pastes prompts and presses
decided prompts' keys into each agent's window, one at a time under its input lock; an agent
whose input point lies in another agent's window is refused (a click there types into that
agent). A window has no way to stop a turn."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from automation.desktop.gui import METHOD, GuiDriver
from automation.desktop.screen import inside_others, window_owner
from core.models import Agent, Receipt
from core.protocols import Parcel, Stop

log = logging.getLogger(__name__)
NOT_OWN = (
    "not delivered to until its input point is its own (swarm desktop up writes it; "
    "desktop up --agents N parks the agents it does not open; swarm agents remove)"
)


class GuiRoute:
    """The desktop agents (``delivery = "gui"``) while this process has the desktop driver."""

    name = METHOD

    def __init__(self, driver: GuiDriver, agents: Sequence[Agent] = ()) -> None:
        self.driver = driver
        self.agents = tuple(agents)  # every agent: whose window a point may be in

    @property
    def time_limit_s(self) -> float:
        """The driver's deadline."""
        return self.driver.time_limit_s

    @staticmethod
    def takes(agent: Agent) -> bool:
        """A desktop agent."""
        return agent.delivery == METHOD

    def parallel(self, agent: Agent) -> bool:
        """One at a time: the driver's input lock."""
        return False

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Pasted into the agent's window, unless its point is another's."""
        if (refused := self._not_own(parcel.agent)) is not None:
            return refused
        return await self.driver.deliver(parcel)

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """Failed: a window's prompt is answered by keys (``press_keys``)."""
        return Receipt.failed(f"{agent.id} is not a protocol agent", METHOD, retryable=False)

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Into the agent's window, unless its point is another's."""
        if (refused := self._not_own(agent)) is not None:
            return refused
        return await self.driver.press_keys(agent, keys)

    @staticmethod
    def can_stop(agent: Agent) -> bool:
        """Never: a window has no way to stop a turn (its tmux pane has: the tmux route's)."""
        return False

    async def stop_turn(self, agent: Agent) -> Stop:
        """Cannot."""
        return Stop.cannot(
            "", "its route (a window with no tmux pane) has no way to stop a turn: "
            "stop it where it runs"
        )  # fmt: skip

    def use_agents(self, agents: Sequence[Agent]) -> None:
        """Know the agents of the agents file: the driver looks in every desktop agent's
        input for a stray paste; an agent whose point lies in another's window is said."""
        self.driver.agents = tuple(agent for agent in agents if self.takes(agent))
        self.agents = tuple(agents)
        for agent_id, why in inside_others(self.agents).items():
            if any(a.id == agent_id and self.takes(a) for a in self.agents):
                log.warning("%s: %s: %s", agent_id, why, NOT_OWN)

    def _not_own(self, agent: Agent) -> Receipt | None:
        """Refused (not retried) when the agent's input point lies in another agent's
        window."""
        owner = window_owner(agent, self.agents)
        if owner is None:
            return None
        return Receipt.failed(f"input point inside {owner[0].id}'s window", METHOD, retryable=False)

    def close(self) -> None:
        """Stop the driver's worker."""
        self.driver.close()
