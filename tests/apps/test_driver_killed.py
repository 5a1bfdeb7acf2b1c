"""A driver killed inside its paste hotkey leaves keys held down on the X server: the next
delivery releases them before it types, and every window then receives its prompt once.

The killed driver is a real process that presses through PyAutoGUI (XTEST) what
``pyautogui.hotkey`` presses first and is killed with SIGKILL before the releases, as
``kill -9`` of ``swarm node`` inside a paste does. Without the release the held Ctrl (and
Shift, V) turn the next click and paste into other commands: "paste not seen", and a Shift
that no delivery releases.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from automation.held_keys import held_keys, release_held
from automation.screen import x_display
from automation.virtual_desktop import XServer, display_env
from core.models import Agent
from tests.apps.desktop import MixedDesktop
from tests.apps.test_driver_on_apps import agents, make_driver, parcel  # noqa: F401 (fixtures)

WINDOWS = ("Agent-3", "Agent-1", "Agent-5")  # xterm, Chromium, Tk: the first gets it first
KILLED_INSIDE = r"""
import os, signal, sys
import pyautogui
pyautogui.PAUSE = 0
for key in sys.argv[1:]:
    pyautogui.keyDown(key)
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_inside_hotkey(server: XServer, keys: tuple[str, ...]) -> None:
    """A PyAutoGUI process presses ``keys`` and is killed before it releases them."""
    done = subprocess.run([sys.executable, "-c", KILLED_INSIDE, *keys], env=server.env,
                          timeout=30, capture_output=True)  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()


def keys_down(server: XServer) -> list[int]:
    """The key codes the server has down, asked on a connection of our own."""
    with display_env(server), x_display(server.display) as connection:
        return held_keys(connection)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("keys", [("ctrl", "shift", "v"), ("ctrl", "v")],
                         ids=["terminal-paste", "chat-paste"])
async def test_keys_a_killed_driver_held_are_released_and_each_window_gets_its_prompt_once(
        apps_desktop: MixedDesktop, agents: dict[str, Agent], make_driver,  # noqa: F811
        keys: tuple[str, ...]) -> None:
    server = apps_desktop.xserver
    before = {name: len(apps_desktop.texts(name)) for name in WINDOWS}
    killed_inside_hotkey(server, keys)
    try:
        assert len(keys_down(server)) == len(keys)  # held, with nobody left to release them
        driver = make_driver()
        sent = {name: f"after the kill ({'+'.join(keys)}) to {name}\nsecond line"
                for name in WINDOWS}
        for n, name in enumerate(WINDOWS, 1):
            receipt = await driver.deliver(parcel(n, agents[name], sent[name]))
            assert receipt.ok, (name, receipt)
    finally:  # whatever happened, the next tests of the shared desktop get a free keyboard
        with display_env(server), x_display(server.display) as connection:
            release_held(connection)
    for name in WINDOWS:
        got = apps_desktop.wait_for(name, before[name] + 1, timeout=5)[before[name]:]
        assert got == [sent[name]], name
    assert keys_down(server) == []
