"""The reset action through the desktop driver: an xterm chat prompt (terminal preset)
receives ``/clear`` then Enter, and the next prompt arrives as usual."""

from __future__ import annotations

from dataclasses import replace

from core.models import Agent
from core.protocols import Parcel
from tests.apps.desktop import MixedDesktop
from tests.apps.test_driver_on_apps import agents, make_driver  # noqa: F401 (fixtures)

TERMINAL = "Agent-3"  # an xterm running the terminal chat prompt


async def test_reset_types_clear_in_a_terminal_agent(
    apps_desktop: MixedDesktop, agents: dict[str, Agent], make_driver  # noqa: F811
) -> None:
    agent = agents[TERMINAL]
    assert agent.app == "terminal" and agent.reset == ("text:/clear", "enter")
    driver = make_driver()
    before = len(apps_desktop.texts(TERMINAL))
    reset = await driver.deliver(Parcel(1, agent, "reset", "test", reset=agent.reset))
    assert reset.ok, reset.reason
    assert apps_desktop.wait_for(TERMINAL, before + 1)[before:] == ["/clear"]
    custom = replace(agent, reset=("text:/reset now", "enter"))
    again = await driver.deliver(Parcel(2, custom, "reset", "test", reset=custom.reset))
    assert again.ok, again.reason
    prompt = await driver.deliver(Parcel(3, agent, "you are Agent-3\nrole: infra", "test"))
    assert prompt.ok, prompt.reason
    assert apps_desktop.wait_for(TERMINAL, before + 3)[before:] == [
        "/clear", "/reset now", "you are Agent-3\nrole: infra"]
