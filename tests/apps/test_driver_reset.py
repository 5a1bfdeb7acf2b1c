"""The reset action through the desktop driver, checked in the applications: an xterm chat
prompt (terminal preset) receives ``/clear`` then Enter; the Chromium chat page ignores the
chat preset's ``ctrl+l`` (it binds no key: its conversation lives in the page) and honours a
reload (``f5``), which empties its history on screen; ``swarm agents reset`` goes through the
queue, the scheduler and the driver to the windows, the onboarding after the reset."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from automation.desktop.gui import GuiDriver
from core.coordinator.scheduler import Scheduler
from core.models import Agent
from core.protocols import Parcel
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.apps.desktop import MixedDesktop, grab
from tests.apps.test_driver_on_apps import agents, make_driver  # noqa: F401 (fixtures)
from tests.helpers import run_cli

CHAT = "Agent-2"  # a Chromium chat page
TERMINAL = "Agent-3"  # an xterm running the terminal chat prompt
HEADER_PX, COMPOSER_PX = 40, 24  # the page's header above its history, the composer's edge


def history_colours(desktop: MixedDesktop, name: str) -> int:
    """How many colours the chat page's history area shows on screen (1: empty)."""
    x, y, width, height = desktop.window(name).watch
    box = (x, y + HEADER_PX, width, height - HEADER_PX - COMPOSER_PX)
    return len(grab(desktop.xserver, box).getcolors(maxcolors=1 << 16) or ())


async def test_reset_types_clear_in_a_terminal_agent(
    apps_desktop: MixedDesktop,
    agents: dict[str, Agent],  # noqa: F811
    make_driver,  # noqa: F811
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
        "/clear",
        "/reset now",
        "you are Agent-3\nrole: infra",
    ]


async def test_the_chat_page_ignores_ctrl_l_and_honours_a_reload(
    apps_desktop: MixedDesktop,
    agents: dict[str, Agent],  # noqa: F811
    make_driver,  # noqa: F811
) -> None:
    agent = agents[CHAT]
    assert agent.app == "chat" and agent.reset == ("ctrl+l",)
    driver = make_driver()
    before = len(apps_desktop.texts(CHAT))
    sent = await driver.deliver(Parcel(1, agent, "a message to clear", "test"))
    assert sent.ok, sent.reason
    assert apps_desktop.wait_for(CHAT, before + 1)[before:] == ["a message to clear"]
    assert history_colours(apps_desktop, CHAT) > 1  # its bubble is on screen
    shown = grab(apps_desktop.xserver, apps_desktop.window(CHAT).watch)
    # after a reset key the driver waits up to its paste timeout (2 s) for the input to
    # change (a reload rebuilds it); the page ignores Ctrl+L, so that is waited out: 0.5 s
    quick = make_driver(paste_timeout_s=0.5)
    ignored = await quick.deliver(Parcel(2, agent, "reset", "test", reset=agent.reset))
    assert ignored.ok, ignored.reason
    assert grab(apps_desktop.xserver, apps_desktop.window(CHAT).watch) == shown  # unchanged
    reload = replace(agent, reset=("f5",))
    done = await driver.deliver(Parcel(3, reload, "reset", "test", reset=reload.reset))
    assert done.ok, done.reason
    await _until(  # the page reloads: its history is empty on screen
        lambda: history_colours(apps_desktop, CHAT) == 1, "the history to empty"
    )
    after = await driver.deliver(Parcel(4, agent, "first after the reset", "test"))
    assert after.ok, after.reason
    assert apps_desktop.wait_for(CHAT, before + 2)[before:] == [
        "a message to clear",
        "first after the reset",
    ]
    assert history_colours(apps_desktop, CHAT) > 1


async def test_swarm_agents_reset_reaches_the_windows_through_the_queue(
    apps_desktop: MixedDesktop,
    make_driver,  # noqa: F811
    home: Path,
    tmp_path: Path,
) -> None:
    config = tmp_path / "agents.toml"
    config.write_text(
        apps_desktop.agents_toml().replace(f'id = "{CHAT}"\n', f'id = "{CHAT}"\nreset = ["f5"]\n'),
        encoding="utf-8",
    )
    for name in (TERMINAL, CHAT):
        queued = run_cli(home, "agents", "reset", name, config=config)
        assert queued.code == 0 and f"reset of {name} queued" in queued.out, queued.err
    before = {name: len(apps_desktop.texts(name)) for name in (TERMINAL, CHAT)}
    env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config), "SWARM_RETRY_BACKOFF": "0.1"}
    service = await SwarmService.open(Settings.from_env(env))
    try:
        driver: GuiDriver = make_driver()
        states = await _deliver_all(Scheduler(service, driver))
    finally:
        await service.close()
    assert sorted(states) == sorted([(TERMINAL, "delivered")] * 2 + [(CHAT, "delivered")] * 2)
    terminal = apps_desktop.wait_for(TERMINAL, before[TERMINAL] + 2)[before[TERMINAL] :]
    assert len(terminal) == 2 and terminal[0] == "/clear", terminal  # a retry doubled nothing
    assert f"You are {TERMINAL}" in terminal[1], terminal
    chat = apps_desktop.wait_for(CHAT, before[CHAT] + 1)[before[CHAT] :]
    assert len(chat) == 1 and f"You are {CHAT}" in chat[0], chat  # the keys sent no text


async def _deliver_all(scheduler: Scheduler, bursts: int = 4) -> list[tuple[str, str]]:
    """The deliveries' (agent, state) once none is queued, after up to ``bursts`` bursts: a
    delivery that failed retryably (once in CI, a paste not seen within its 2 s under the
    suite's load) is tried again after its backoff, as ``swarm run`` would."""
    for _ in range(bursts):
        await scheduler.run_burst()
        deliveries = await scheduler.service.messages.deliveries()
        if all(d.state.value != "queued" for d in deliveries):
            break
        await asyncio.sleep(0.3)
    return [(d.agent, d.state.value) for d in deliveries]


async def _until(check: Callable[[], bool], what: str, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
