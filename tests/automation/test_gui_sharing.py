"""The driver shares the desktop: with a human at the pointer and with other processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from messages import parcel

from automation.desktop.gui import GuiDriver
from automation.desktop.screen import x_display
from automation.desktop.virtual_desktop import AgentWindows, XServer, input_point
from core.models import Agent
from tests.automation import shared_windows
from tests.automation.shared_windows import SinceStart

default_windows = shared_windows.default_windows  # the fixtures: the module's own windows
windows = shared_windows.windows
ROOT = Path(__file__).resolve().parents[2]


class Human(threading.Thread):
    """Moves the pointer around ``centre`` every 50 ms for ``seconds`` (via xdotool), or
    until ``stop`` is set."""

    def __init__(self, xserver: XServer, seconds: float, centre: tuple[int, int]) -> None:
        super().__init__(daemon=True)
        self.xserver, self.seconds, self.centre = xserver, seconds, centre
        self.last = centre
        self.stop = threading.Event()
        xserver.xdotool("mousemove", str(centre[0]), str(centre[1]))

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        step = 0
        while time.monotonic() < deadline and not self.stop.is_set():
            step += 1
            self.last = (self.centre[0] + step % 7 * 10, self.centre[1] + step % 5 * 10)
            self.xserver.xdotool("mousemove", str(self.last[0]), str(self.last[1]))
            time.sleep(0.05)


async def test_the_driver_waits_while_the_human_moves_the_pointer(
    xserver: XServer,
    windows: SinceStart,
    agents: list[Agent],
    make_driver: Callable[..., GuiDriver],
) -> None:
    driver = make_driver(human_idle_s=0.3, human_wait_s=5.0)
    assert (await driver.deliver(parcel(1, agents[0], "before the human"))).ok
    human = Human(xserver, 1.0, (900, 300))
    human.start()
    started = time.monotonic()
    receipt = await driver.deliver(parcel(2, agents[1], "after the human 🙂"))
    elapsed = time.monotonic() - started
    human.join(5)
    assert receipt.ok, receipt.reason
    assert elapsed >= 1.0
    assert windows.wait_for(1, 1) == ["after the human 🙂"]
    assert xserver.pointer() == human.last


async def test_a_human_who_never_stops_gets_the_desktop(
    xserver: XServer,
    windows: SinceStart,
    agents: list[Agent],
    make_driver: Callable[..., GuiDriver],
) -> None:
    driver = make_driver(human_idle_s=0.3, human_wait_s=0.8)
    assert (await driver.deliver(parcel(1, agents[0], "before the human"))).ok
    human = Human(xserver, 2.0, (900, 300))
    human.start()
    receipt = await driver.deliver(parcel(2, agents[1], "must wait for later"))
    moving = human.is_alive()  # still at it when the driver gave up
    human.stop.set()
    human.join(5)
    assert moving
    assert (receipt.ok, receipt.reason, receipt.retryable) == (False, "human active", True)
    await asyncio.sleep(0.2)
    assert windows.texts(1) == []
    assert xserver.pointer() == human.last  # the driver never took the pointer


async def test_a_human_move_mid_delivery_makes_the_driver_wait_and_redo(
    xserver: XServer,
    open_windows: Callable[..., AgentWindows],
    agents: list[Agent],
    make_driver: Callable[..., GuiDriver],
) -> None:
    windows = open_windows(slow_paste={2: 600})
    driver = make_driver(human_idle_s=0.3, human_wait_s=5.0)
    loop = asyncio.get_running_loop()
    loop.call_later(0.25, xserver.xdotool, "mousemove", "50", "60")
    receipt = await driver.deliver(parcel(1, agents[2], "exactly once, please"))
    assert receipt.ok, receipt.reason
    assert windows.wait_for(2, 1) == ["exactly once, please"]
    await asyncio.sleep(0.3)
    assert windows.texts(2) == ["exactly once, please"]
    assert xserver.pointer() == (50, 60)


def _wait_for_focus_on(display: Any, point: tuple[int, int], timeout: float = 10.0) -> bool:
    """Wait until the X focus is the top-level window under ``point``; False at the timeout."""
    root = display.screen().root
    target = root.translate_coords(root, *point).child.id
    deadline = time.monotonic() + timeout
    while getattr(display.get_input_focus().focus, "id", None) != target:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


async def test_a_keyboard_the_application_gives_up_late_is_taken_again(
    xserver: XServer,
    open_windows: Callable[..., AgentWindows],
    agents: list[Agent],
    driver: GuiDriver,
) -> None:
    """Tk without a window manager takes the keyboard for the window the pointer enters while
    nobody holds it, and hands it to PointerRoot when the pointer leaves: late, after the
    driver's own click moved the pointer away and the driver had asked for the focus (the
    first delivery after the desktop's focused window closed, issue 23 item 20). Windows of
    its own: it stops their process, and they are new, as after that window closed."""
    from Xlib import X

    windows = open_windows()
    with x_display(xserver.display) as display:
        display.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
        display.sync()  # nobody holds the keyboard
        xserver.xdotool("mousemove", *map(str, input_point(1)))  # Tk takes it for Agent-2
        os.kill(windows.process.pid, signal.SIGSTOP)  # Tk sees the pointer leave only later
        try:
            delivery = asyncio.create_task(driver.deliver(parcel(1, agents[0], "taken again")))
            asked = await asyncio.to_thread(_wait_for_focus_on, display, input_point(0))
        finally:
            os.kill(windows.process.pid, signal.SIGCONT)
    receipt = await delivery
    assert asked
    assert receipt.ok, receipt.reason
    assert windows.wait_for(0, 1) == ["taken again"]
    await asyncio.sleep(0.3)
    assert windows.texts(0) == ["taken again"]


OTHER_PROCESS = """
import json, sys
from pathlib import Path
from automation.desktop.gui import GuiDriver, GuiOptions
from core.delivery import KillSwitch
from core.models import Agent
from core.protocols import Parcel

home, jobs = Path(sys.argv[1]), json.loads(sys.argv[2])
driver = GuiDriver(home, KillSwitch(home), GuiOptions(human_idle_s=0.05))
failed = [n for n, (index, x, y, text) in enumerate(jobs)
          if not driver.deliver_blocking(
              Parcel(n, Agent(id=f"Agent-{index + 1}", role="r", input=(x, y)), text, "other")
          ).ok]
driver.close()
print(json.dumps(failed))
"""


@pytest.mark.timeout(120)
async def test_two_processes_take_turns_through_the_input_lock(
    xserver: XServer,
    windows: SinceStart,
    agents: list[Agent],
    driver: GuiDriver,
    home: Path,
) -> None:
    theirs = [
        (4 + n % 4, *input_point(4 + n % 4), f"from the other process #{n}") for n in range(40)
    ]
    mine = [(n % 4, f"from this process #{n}\n✓") for n in range(40)]
    other = await asyncio.create_subprocess_exec(
        *[sys.executable, "-c", OTHER_PROCESS, str(home), json.dumps(theirs)],
        env=xserver.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        receipts = [await driver.deliver(parcel(n, agents[i], t)) for n, (i, t) in enumerate(mine)]
        out, err = await asyncio.wait_for(other.communicate(), 90)
    finally:
        if other.returncode is None:
            other.kill()
            await other.wait()
    assert other.returncode == 0, err.decode()
    assert json.loads(out) == []
    assert all(r.ok for r in receipts), [r.reason for r in receipts]
    for i in range(8):
        expected = [t for index, *_, t in theirs if index == i] + [t for k, t in mine if k == i]
        assert windows.wait_for(i, 10) == expected
