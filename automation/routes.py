"""The registry of routes: the ``core.protocols.Route``s this process has (the desktop
driver, the tmux panes, the protocol hosts, the inbox files), and for each agent the one its
messages, answers, keys and stops go by."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from automation.desktop.gui import GuiDriver, GuiOptions
from automation.desktop.route import GuiRoute
from automation.desktop.screen import NoDisplay, detect_screens, display_available, validate_agents
from automation.inbox.files import InboxDeliverer
from automation.inbox.route import InboxRoute
from automation.protocol.delivery import ProtocolDeliverer
from automation.protocol.route import ProtocolRoute
from automation.tmux.delivery import TmuxDeliverer
from automation.tmux.route import TmuxRoute
from core.delivery import KillSwitch
from core.models import Agent, Receipt
from core.protocols import Parcel, Route, Stop
from core.settings import Settings

log = logging.getLogger(__name__)


@runtime_checkable
class _KnowsAgents(Protocol):
    """A route that keeps the agents file's agents (the desktop's: whose window is whose)."""

    def use_agents(self, agents: Sequence[Agent]) -> None: ...


class RoutingDeliverer:
    """A Deliverer that sends each agent's messages by its route: the first of ``routes``
    that takes the agent, else ``fallback`` (the inbox files, which take any agent)."""

    def __init__(self, routes: Sequence[Route], fallback: Route) -> None:
        self.by_order = (*routes, fallback)
        self.fallback = fallback
        self.routes: set[str] = {fallback.name}  # the ones agents use (use_agents)
        self.agents: tuple[Agent, ...] = ()  # every agent of the agents file

    def route(self, name: str) -> Route | None:
        """The route called ``name`` when this process has it."""
        return next((route for route in self.by_order if route.name == name), None)

    def route_for(self, agent: Agent) -> Route:
        """The route ``agent`` gets its messages by (the fallback's when none takes it)."""
        return next((route for route in self.by_order if route.takes(agent)), self.fallback)

    def method_for(self, agent: Agent) -> str:
        """``"gui"``, ``"tmux"``, ``"protocol"`` or ``"inbox"``: how ``agent`` gets its
        messages. A desktop agent with a tmux pane gets them through tmux when there is no
        desktop driver."""
        return self.route_for(agent).name

    @property
    def time_limit_s(self) -> float:
        """The longest one delivery takes: the deadline of the slowest route an agent uses
        (files are quick: their 30 s counts only when nothing else is used)."""
        used = [r for r in self.by_order if r.name in self.routes and r is not self.fallback]
        return max((route.time_limit_s for route in used), default=self.fallback.time_limit_s)

    def parallel(self, agent: Agent) -> bool:
        """Whether the agent's route takes deliveries beside other agents' (all but the
        desktop driver, one at a time under its input lock)."""
        return self.route_for(agent).parallel(agent)

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Deliver through the agent's route."""
        return await self.route_for(parcel.agent).deliver(parcel)

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """A decided prompt's option back to the agent as its request's answer (the protocol
        route; the others say they cannot)."""
        return await self.route_for(agent).answer(agent, request, option)

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Press ``keys`` into the agent's window or pane (a decided prompt's answer); the
        other routes say they cannot."""
        return await self.route_for(agent).press_keys(agent, keys)

    def can_stop(self, agent: Agent) -> bool:
        """Whether a route at hand can stop ``agent``'s running turn."""
        return any(route.can_stop(agent) for route in self.by_order)

    async def stop_turn(self, agent: Agent) -> Stop:
        """Stop ``agent``'s running turn by the first route that can (a desktop agent's pane
        when it has one); else its own route says why not."""
        stopper = next((r for r in self.by_order if r.can_stop(agent)), self.route_for(agent))
        return await stopper.stop_turn(agent)

    def use_agents(self, agents: Sequence[Agent]) -> None:
        """Know the agents of a reloaded agents file: the routes they use (the time limit is
        theirs), and the desktop route whose window is whose (an agent whose point lies in
        another's window is said once more)."""
        self.routes = {self.method_for(agent) for agent in agents}
        self.agents = tuple(agents)
        for route in self.by_order:
            if isinstance(route, _KnowsAgents):
                route.use_agents(agents)

    def close(self) -> None:
        """Stop the routes' workers."""
        for route in self.by_order:
            route.close()


def build_routes(
    settings: Settings, kill_switch: KillSwitch, gui: GuiDriver | None = None
) -> RoutingDeliverer:
    """The registry of the routes at hand: protocol hosts, the desktop driver when given,
    tmux panes, files (close it)."""
    desktop = [GuiRoute(gui)] if gui is not None else []
    return RoutingDeliverer(
        [
            ProtocolRoute(ProtocolDeliverer(settings.home)),
            *desktop,
            TmuxRoute(TmuxDeliverer(settings.home, kill_switch)),
        ],
        InboxRoute(InboxDeliverer(settings.inbox_dir)),
    )


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
    gui_agents = [agent for agent in agents if GuiRoute.takes(agent)]
    usable, why = display_available() if gui_agents else (False, "")
    driver = None
    if usable:
        _log_coordinate_problems(gui_agents)
        driver = GuiDriver(settings.home, kill_switch, gui_options or GuiOptions(), gui_agents)
        driver.release_left_held()  # a killed driver's keys must not repeat until a delivery
    routing = build_routes(settings, kill_switch, driver)
    routing.use_agents(agents)
    if gui_agents and not usable:
        _log_no_display(why, agents, routing, settings)
    return routing


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
