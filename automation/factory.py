"""Choose how each agent gets its messages: the desktop driver, its tmux pane, its protocol
host or the inbox files."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from automation.desktop.gui import GuiDriver, GuiOptions
from automation.desktop.screen import (
    NoDisplay,
    detect_screens,
    display_available,
    inside_others,
    validate_agents,
    window_owner,
)
from automation.inbox.files import INBOX_TIME_LIMIT_S, InboxDeliverer
from automation.protocol.delivery import ProtocolDeliverer
from automation.tmux.delivery import TmuxDeliverer
from core.delivery.killswitch import KillSwitch
from core.models import Agent, Receipt
from core.protocols import Parcel
from core.settings import Settings

log = logging.getLogger(__name__)
NOT_OWN = (
    "not delivered to until its input point is its own (swarm desktop up writes it; "
    "desktop up --agents N parks the agents it does not open; swarm agents remove)"
)


class RoutingDeliverer:
    """A Deliverer that sends each agent's messages its way (``method_for``): the desktop
    driver, its tmux pane, or the inbox files."""

    def __init__(
        self,
        inbox: InboxDeliverer,
        gui: GuiDriver | None,
        tmux: TmuxDeliverer | None = None,
        protocol: ProtocolDeliverer | None = None,
    ) -> None:
        self.inbox = inbox
        self.gui = gui
        self.tmux = tmux
        self.protocol = protocol
        self.routes: set[str] = {"gui", "tmux", "inbox"}  # the ones agents use (use_agents)
        self.agents: tuple[Agent, ...] = ()  # every agent: whose window a point may be in

    @property
    def time_limit_s(self) -> float:
        """The longest one delivery takes: the deadline of the slowest screen or tmux route an
        agent uses (files are quick: their 30 s counts only when nothing else is used)."""
        limits = [
            route.time_limit_s
            for name, route in (("gui", self.gui), ("tmux", self.tmux), ("protocol", self.protocol))
            if route is not None and name in self.routes
        ]
        return max(limits, default=INBOX_TIME_LIMIT_S)

    def method_for(self, agent: Agent) -> str:
        """``"gui"``, ``"tmux"``, ``"protocol"`` or ``"inbox"``: how ``agent`` gets its
        messages. A desktop agent with a tmux pane gets them through tmux when there is no
        desktop driver."""
        if agent.delivery == "protocol" and self.protocol is not None:
            return "protocol"
        if agent.delivery == "gui" and self.gui is not None:
            return "gui"
        if agent.delivery in ("gui", "tmux") and agent.tmux and self.tmux is not None:
            return "tmux"
        return "inbox"

    def parallel(self, agent: Agent) -> bool:
        """Tmux panes and inbox files take different agents' deliveries at once; the desktop
        driver one at a time (its input lock)."""
        return self.method_for(agent) != "gui"

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Deliver through the agent's route."""
        method = self.method_for(parcel.agent)
        if method == "gui" and (refused := self._not_own(parcel.agent)) is not None:
            return refused
        if method == "gui" and self.gui is not None:
            return await self.gui.deliver(parcel)
        if method == "tmux" and self.tmux is not None:
            return await self.tmux.deliver(parcel)
        if method == "protocol" and self.protocol is not None:
            return await self.protocol.deliver(parcel)
        return await self.inbox.deliver(parcel)

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """A decided protocol prompt's option back to the agent's host (not typed)."""
        if self.method_for(agent) != "protocol" or self.protocol is None:
            return Receipt.failed(f"{agent.id} is not a protocol agent", "", retryable=False)
        return await self.protocol.answer(agent, request, option)

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Press ``keys`` into the agent's window or pane (a decided prompt's answer);
        failed when the agent gets files."""
        method = self.method_for(agent)
        if method == "gui" and (refused := self._not_own(agent)) is not None:
            return refused
        if method == "gui" and self.gui is not None:
            return await self.gui.press_keys(agent, keys)
        if method == "tmux" and self.tmux is not None:
            return await self.tmux.press_keys(agent, keys)
        return Receipt.failed("no desktop driver for this agent", "inbox", retryable=False)

    def _not_own(self, agent: Agent) -> Receipt | None:
        """Refused (not retried) when the agent's input point lies in another agent's
        window: a click there types into that agent."""
        owner = window_owner(agent, self.agents)
        if owner is None:
            return None
        return Receipt.failed(f"input point inside {owner[0].id}'s window", "gui", retryable=False)

    def use_agents(self, agents: Sequence[Agent]) -> None:
        """Know the agents of a reloaded agents file: the driver looks in every desktop
        agent's input for a stray paste (a point is the agent's own, not another's); an
        agent whose point lies in another's window is said once more."""
        if self.gui is not None:
            self.gui.agents = tuple(agent for agent in agents if agent.delivery == "gui")
        self.routes = {self.method_for(agent) for agent in agents}
        self.agents = tuple(agents)
        if self.gui is not None:
            log_not_own(self)

    def close(self) -> None:
        """Stop the desktop driver's and the tmux deliverer's workers."""
        if self.gui is not None:
            self.gui.close()
        if self.tmux is not None:
            self.tmux.close()
        if self.protocol is not None:
            self.protocol.close()


def build_deliverer(
    settings: Settings,
    agents: Sequence[Agent],
    kill_switch: KillSwitch,
    gui_options: GuiOptions | None = None,
) -> RoutingDeliverer:
    """The deliverer for these agents: ``delivery = "tmux"`` agents through their panes;
    without a usable display the desktop agents with a ``tmux`` pane through it too (said
    once in the log), the others to the inbox.

    ``gui_options`` come from the composition root (``bot.config``); default: the defaults.
    """
    inbox = InboxDeliverer(settings.inbox_dir)
    tmux = TmuxDeliverer(settings.home, kill_switch)
    protocol = ProtocolDeliverer(settings.home)
    gui_agents = [agent for agent in agents if agent.delivery == "gui"]
    if not gui_agents:
        return _routed(RoutingDeliverer(inbox, None, tmux, protocol), agents)
    usable, why = display_available()
    if not usable:
        routing = _routed(RoutingDeliverer(inbox, None, tmux, protocol), agents)
        _log_no_display(why, agents, routing, settings)
        return routing
    _log_coordinate_problems(gui_agents)
    options = gui_options or GuiOptions()
    driver = GuiDriver(settings.home, kill_switch, options, gui_agents)
    driver.release_left_held()  # a killed driver's keys must not repeat until a delivery
    routing = _routed(RoutingDeliverer(inbox, driver, tmux, protocol), agents)
    log_not_own(routing)
    return routing


def _routed(routing: RoutingDeliverer, agents: Sequence[Agent]) -> RoutingDeliverer:
    """``routing`` knowing the agents and the routes they use (its time limit is theirs)."""
    routing.routes = {routing.method_for(agent) for agent in agents}
    routing.agents = tuple(agents)
    return routing


def log_not_own(routing: RoutingDeliverer) -> None:
    """One warning per screen-delivered agent whose input point lies in another agent's
    window, naming both: its deliveries are refused."""
    for agent_id, why in inside_others(routing.agents).items():
        agent = next(a for a in routing.agents if a.id == agent_id)
        if routing.method_for(agent) == "gui":
            log.warning("%s: %s: %s", agent_id, why, NOT_OWN)


def _log_no_display(
    why: str, agents: Sequence[Agent], routing: RoutingDeliverer, settings: Settings
) -> None:
    """Say once where the desktop agents' messages go without a display."""
    by_tmux = [a.id for a in agents if a.delivery == "gui" and routing.method_for(a) == "tmux"]
    to_files = [a for a in agents if routing.method_for(a) == "inbox"]
    if not by_tmux:
        every = "all " if len(to_files) == len(agents) else ""
        log.warning("no display (%s): %s%d agents get their messages as files in %s",
                    why, every, len(to_files), settings.inbox_dir)  # fmt: skip
        return
    log.warning(
        "no display (%s): the desktop agents with a tmux pane get their messages through "
        "tmux (%s); %d agents as files in %s",
        why,
        ", ".join(by_tmux),
        len(to_files),
        settings.inbox_dir,
    )


def _log_coordinate_problems(agents: Sequence[Agent]) -> None:
    try:
        screens = detect_screens()
    except NoDisplay as exc:
        log.warning("cannot check the agents' coordinates: %s", exc)
        return
    for agent_id, problems in validate_agents(agents, screens).items():
        for problem in problems:
            log.warning("%s: %s", agent_id, problem)
