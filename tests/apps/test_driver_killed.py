"""What a driver killed mid-delivery leaves behind, and the next driver's delivery.

Keys held down on the X server: the killed driver is a real process that presses through
PyAutoGUI (XTEST) what ``pyautogui.hotkey`` presses first and is killed with SIGKILL before
the releases, as ``kill -9`` of ``swarm node`` inside a paste does. Without the release the
held Ctrl (and Shift, V) turn the next click and paste into other commands: "paste not
seen", and a Shift that no delivery releases.

A pasted prompt never sent: killed between the paste and the submit, the driver leaves the
whole prompt in a terminal chat's multi-line input. The next driver (a new process: it has
never seen that input empty) must clear it or refuse; the terminal's clear keys remove a
line at a time and the terminal redraws a long input tens of milliseconds late, which the
driver took for "nothing changed": the retry was submitted glued to the leftover. The
driver marks an input before it pastes (a file in the home), so the next driver knows the
text is its own prompt and clears it all; text it does not know it refuses to paste after.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from automation.desktop.gui import UNSENT_NAME
from automation.desktop.held_keys import LINGER_S, held_buttons, held_keys, release_held
from automation.desktop.input_clearing import UnsentPastes
from automation.desktop.screen import x_display
from automation.desktop.virtual_desktop import XServer, display_env
from core.models import Agent
from tests.apps.conftest import Person
from tests.apps.desktop import MixedDesktop
from tests.apps.test_driver_on_apps import agents, make_driver, parcel  # noqa: F401 (fixtures)
from tests.helpers import ROOT

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


def keyboard_to_no_window(server: XServer) -> None:
    """The pointer on the desktop's empty cell, the keyboard following the pointer: keys held
    until someone releases them repeat into no agent's input (the window that had the focus
    is whichever the test before used: an xterm would take repeated Ctrl+Shift+V pastes)."""
    from Xlib import X

    server.xdotool("mousemove", "960", "540")
    with display_env(server), x_display(server.display) as connection:
        connection.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
        connection.sync()


def keys_down(server: XServer) -> list[int]:
    """The key codes the server has down, asked on a connection of our own."""
    with display_env(server), x_display(server.display) as connection:
        return held_keys(connection)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "keys", [("ctrl", "shift", "v"), ("ctrl", "v")], ids=["terminal-paste", "chat-paste"]
)
async def test_keys_a_killed_driver_held_are_released_and_each_window_gets_its_prompt_once(
    apps_desktop: MixedDesktop,
    agents: dict[str, Agent],  # noqa: F811
    make_driver,  # noqa: F811
    keys: tuple[str, ...],
) -> None:
    server = apps_desktop.xserver
    before = {name: len(apps_desktop.texts(name)) for name in WINDOWS}
    keyboard_to_no_window(server)
    killed_inside_hotkey(server, keys)
    try:
        assert len(keys_down(server)) == len(keys)  # held, with nobody left to release them
        driver = make_driver()
        sent = {
            name: f"after the kill ({'+'.join(keys)}) to {name}\nsecond line" for name in WINDOWS
        }
        for n, name in enumerate(WINDOWS, 1):
            receipt = await driver.deliver(parcel(n, agents[name], sent[name]))
            assert receipt.ok, (name, receipt)
    finally:  # whatever happened, the next tests of the shared desktop get a free keyboard
        with display_env(server), x_display(server.display) as connection:
            release_held(connection)
    for name in WINDOWS:
        got = apps_desktop.wait_for(name, before[name] + 1, timeout=5)[before[name] :]
        assert got == [sent[name]], name
    assert keys_down(server) == []


PRESSING = r"""
import os, sys
import pymsgbox, pyscreeze, pytweening  # PyAutoGUI's own imports (not its display), once
from Xlib import XK, display
from Xlib.ext import xtest
from automation.desktop.held_keys import click_at, press_combo
for _ in sys.stdin:  # a line: one more pressing process, as a driver connects on its own
    pid = os.fork()
    if pid == 0:
        import pyautogui
        pyautogui.PAUSE = 0
        print(f"pressing {os.getpid()}", flush=True)
        while True:
            if sys.argv[1] == "click":
                click_at(pyautogui, 960, 540)
            else:
                press_combo(pyautogui, sys.argv[1:])
    os.waitpid(pid, 0)
    print("gone", flush=True)
"""
KILLS = 16


class Presser:
    """Starts processes that press keys ``what`` (or click, ``("click",)``) as the driver
    does, over and over, each with its own connection to the display: forked from one
    process that loaded PyAutoGUI's imports once (a new Python and its imports took about
    0.25 s a kill), each connecting to the display itself."""

    def __init__(self, server: XServer, what: tuple[str, ...]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", PRESSING, *what], env=server.env,
                                     cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)  # fmt: skip

    def killed_while_pressing(self) -> None:
        """One process pressing, killed at a moment of chance once it has begun."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()
        started = self.proc.stdout.readline()
        assert started.startswith(b"pressing "), started + self._stderr()
        time.sleep(random.uniform(0.005, 0.05))
        os.kill(int(started.split()[1]), signal.SIGKILL)
        assert self.proc.stdout.readline() == b"gone\n", self._stderr()

    def _stderr(self) -> bytes:
        self.proc.kill()
        return self.proc.communicate(timeout=30)[1]

    def close(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=30)


def down_on_server(server: XServer) -> list[int]:
    """The keys and pointer buttons the server has down."""
    with display_env(server), x_display(server.display) as connection:
        return held_keys(connection) + held_buttons(connection)


def down_once_settled(server: XServer) -> list[int]:
    """What the server still has down once it had time to finish the killed driver's last
    write: asked at once, a press could be seen before the release queued behind it (the
    server serves other clients between two requests of one), which it then processes."""
    deadline = time.monotonic() + LINGER_S + 3
    while (down := down_on_server(server)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return down


@pytest.mark.timeout(120)
@pytest.mark.parametrize("what", [("ctrl", "shift"), ("click",)], ids=["keys", "click"])
def test_a_driver_killed_at_any_moment_of_its_keys_leaves_none_held(
    apps_desktop: MixedDesktop, what: tuple[str, ...]
) -> None:
    """``kill -9`` of ``swarm run`` while it presses an answer's key or a paste, or clicks
    an input point: each press and its release reach the server together or not at all, so
    no key is left down for the server to repeat into the person's focused window, nor a
    button for their next move to drag with, until the next driver starts. Ctrl+Shift alone
    does nothing in any window, nor a click on the desktop's empty cell; with
    ``pyautogui.hotkey`` and ``click`` a kill left one down about every other time, and
    with one write but the socket closed at the kill, once in 16 kills on a loaded suite
    (the server had served the press, and dropped the release with the client)."""
    server = apps_desktop.xserver
    keyboard_to_no_window(server)
    held = []
    presser = Presser(server, what)
    try:
        for _ in range(KILLS):
            presser.killed_while_pressing()
            held.append(len(down_once_settled(server)))
            with display_env(server), x_display(server.display) as connection:
                release_held(connection)
    finally:
        presser.close()
        with display_env(server), x_display(server.display) as connection:
            release_held(connection)
    assert held == [0] * KILLS


@pytest.mark.timeout(60)
def test_a_deliverer_starting_releases_what_a_killed_driver_left_held(
    apps_desktop: MixedDesktop,
    agents: dict[str, Agent],  # noqa: F811
    home: Path,
) -> None:
    """``swarm run`` / ``swarm node`` restarted after a kill: the keys go at once, not at
    the next delivery (until then the server repeats them into the focused window)."""
    from automation.routes import build_deliverer
    from core.delivery._killswitch import KillSwitch
    from core.settings import Settings

    server = apps_desktop.xserver
    keyboard_to_no_window(server)
    killed_inside_hotkey(server, ("ctrl", "shift", "v"))
    try:
        assert len(keys_down(server)) == 3
        with display_env(server):
            deliverer = build_deliverer(
                Settings.from_env({"SWARM_HOME": str(home)}),
                list(agents.values()),
                KillSwitch(home),
            )
        deliverer.close()
        assert keys_down(server) == []
    finally:
        with display_env(server), x_display(server.display) as connection:
            release_held(connection)


LEFT_IN_THE_INPUT = "\n".join(
    [
        "# Agent-3: terminal-3",
        "",
        "You are Agent-3, one of a team of AI coding agents.",
        "",
        "## How to report back (from your terminal)",
        "- `swarm task start T-N` when you begin",
        '- `swarm task done T-N --note "what you did"` when it is finished',
        "",
        "---",
        "",
        "[swarm] from scheduler to Agent-3 | task T-2 | priority normal",
        "",
        "T-2: job 001",
        "",
        "Report back from your terminal: swarm task start|note|done|fail T-2 (start when you "
        'begin; done T-2 --note "what you did"; fail T-2 --reason "why")',
    ]
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("marked", [True, False], ids=["the-drivers-paste", "unmarked-text"])
async def test_a_prompt_a_killed_driver_pasted_into_a_terminal_is_never_glued_to_the_retry(
    apps_desktop: MixedDesktop,
    agents: dict[str, Agent],  # noqa: F811
    make_driver,  # noqa: F811
    person: Person,
    home: Path,
    marked: bool,
) -> None:
    window = apps_desktop.window("Agent-3")  # the prompt_toolkit chat in an xterm
    before = len(apps_desktop.texts("Agent-3"))
    person.set_clipboard(LEFT_IN_THE_INPUT)
    person.click_into(window)
    person.keys("ctrl+shift+v")  # the paste the killed driver made; no Enter followed
    if marked:  # as the killed driver marked it before its paste
        UnsentPastes(home / UNSENT_NAME).add("Agent-3")
    apps_desktop.xserver.xdotool("mousemove", "960", "540")
    retry = "[swarm] ... | RETRY (this may repeat an earlier message)\n\nT-2: job 001"
    driver = make_driver()  # a new process's driver: it never saw this input empty
    reasons = []
    for n in range(1, 11):
        receipt = await driver.deliver(parcel(n, agents["Agent-3"], retry))
        reasons.append(receipt.reason)
        if receipt.ok:
            break
        # not its own paste for sure: a few clear passes per attempt, then refused
        assert not marked and receipt.reason == "input not empty", reasons
        assert apps_desktop.texts("Agent-3")[before:] == [], reasons  # nothing pasted
    assert reasons[-1] is None, reasons
    assert apps_desktop.wait_for("Agent-3", before + 1)[before:] == [retry], reasons
    assert "Agent-3" not in UnsentPastes(home / UNSENT_NAME)
