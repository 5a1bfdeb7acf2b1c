"""Choose how each agent gets its messages: the desktop driver or the inbox files."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from automation.gui import GuiDriver, GuiOptions
from automation.message_files import INBOX_TIME_LIMIT_S, InboxDeliverer
from automation.screen import NoDisplay, detect_screens, display_available, validate_agents
from core.delivery.killswitch import KillSwitch
from core.models import Agent, Receipt
from core.protocols import Parcel
from core.settings import Settings

log = logging.getLogger(__name__)


class RoutingDeliverer:
    """A Deliverer that sends ``delivery = "inbox"`` agents (or all, without GUI) to the inbox."""

    def __init__(self, inbox: InboxDeliverer, gui: GuiDriver | None) -> None:
        self.inbox = inbox
        self.gui = gui

    @property
    def time_limit_s(self) -> float:
        """The longest one delivery takes (the desktop driver's deadline; files are quick)."""
        return self.gui.time_limit_s if self.gui is not None else INBOX_TIME_LIMIT_S

    def method_for(self, agent: Agent) -> str:
        """``"gui"`` or ``"inbox"``: how ``agent`` gets its messages."""
        return "gui" if self.gui is not None and agent.delivery == "gui" else "inbox"

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Deliver through the agent's route."""
        if self.gui is not None and self.method_for(parcel.agent) == "gui":
            return await self.gui.deliver(parcel)
        return await self.inbox.deliver(parcel)

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Press ``keys`` into the agent's window through the desktop driver (a decided
        prompt's answer); failed when there is none or the agent gets files."""
        if self.gui is None or self.method_for(agent) != "gui":
            return Receipt.failed("no desktop driver for this agent", "inbox", retryable=False)
        return await self.gui.press_keys(agent, keys)

    def use_agents(self, agents: Sequence[Agent]) -> None:
        """Know the agents of a reloaded agents file: the driver looks in every desktop
        agent's input for a stray paste (a point is the agent's own, not another's)."""
        if self.gui is not None:
            self.gui.agents = tuple(agent for agent in agents if agent.delivery == "gui")

    def close(self) -> None:
        """Stop the desktop driver's worker, if any."""
        if self.gui is not None:
            self.gui.close()


def build_deliverer(
    settings: Settings,
    agents: Sequence[Agent],
    kill_switch: KillSwitch,
    gui_options: GuiOptions | None = None,
) -> RoutingDeliverer:
    """The deliverer for these agents; without a usable display everything goes to the inbox.

    ``gui_options`` come from the composition root (``bot.config``); default: the defaults.
    """
    inbox = InboxDeliverer(settings.inbox_dir)
    gui_agents = [agent for agent in agents if agent.delivery == "gui"]
    if not gui_agents:
        return RoutingDeliverer(inbox, None)
    usable, why = display_available()
    if not usable:
        log.warning(
            "no display (%s): all %d agents get their messages as files in %s",
            why,
            len(agents),
            settings.inbox_dir,
        )
        return RoutingDeliverer(inbox, None)
    _log_coordinate_problems(gui_agents)
    options = gui_options or GuiOptions()
    driver = GuiDriver(settings.home, kill_switch, options, gui_agents)
    driver.release_left_held()  # a killed driver's keys must not repeat until a delivery
    return RoutingDeliverer(inbox, driver)


def _log_coordinate_problems(agents: Sequence[Agent]) -> None:
    try:
        screens = detect_screens()
    except NoDisplay as exc:
        log.warning("cannot check the agents' coordinates: %s", exc)
        return
    for agent_id, problems in validate_agents(agents, screens).items():
        for problem in problems:
            log.warning("%s: %s", agent_id, problem)
