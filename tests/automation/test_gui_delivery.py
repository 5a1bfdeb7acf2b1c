"""The desktop driver against real Tk windows on a private Xvfb."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from messages import make_texts, parcel
from PIL import Image, ImageChops

from automation.desktop.gui import GuiDriver
from automation.desktop.virtual_desktop import AgentWindows, XServer, input_box
from core.delivery._killswitch import KillSwitch
from core.models import Agent
from tests.apps.desktop import grab
from tests.automation import shared_windows
from tests.automation.shared_windows import SinceStart

default_windows = shared_windows.default_windows  # the fixtures: the module's own windows
windows = shared_windows.windows


@pytest.mark.timeout(420)
async def test_320_prompts_arrive_exactly_once_in_the_right_window(
    windows: SinceStart, agents: list[Agent], driver: GuiDriver
) -> None:
    texts = make_texts(320)
    assert sum(len(t) == 2000 for t in texts) >= 3
    sent: dict[int, list[str]] = {i: [] for i in range(8)}
    failures = []
    for n, text in enumerate(texts):
        receipt = await driver.deliver(parcel(n, agents[n % 8], text))
        if receipt.ok:
            sent[n % 8].append(text)
        else:
            failures.append((n, receipt.reason))
    assert failures == []
    for i in range(8):
        received = windows.wait_for(i, len(sent[i]))
        assert len(received) == len(sent[i]) == 40
        mismatched = [k for k, (a, b) in enumerate(zip(received, sent[i], strict=True)) if a != b]
        assert mismatched == [], f"window {i + 1} got different texts at {mismatched[:5]}"


async def test_receipt_says_gui_and_ok(
    windows: SinceStart, agents: list[Agent], driver: GuiDriver
) -> None:
    receipt = await driver.deliver(parcel(1, agents[2], "one\ntwo ✓"))
    assert (receipt.ok, receipt.method, receipt.reason) == (True, "gui", None)
    assert windows.wait_for(2, 1) == ["one\ntwo ✓"]


async def test_a_slow_window_is_waited_for(
    open_windows: Callable[..., AgentWindows], agents: list[Agent], driver: GuiDriver
) -> None:
    windows = open_windows(slow_paste={3: 400})
    started = time.monotonic()
    receipt = await driver.deliver(parcel(1, agents[3], "slow but sure 🐢\nline 2"))
    assert receipt.ok, receipt.reason
    assert time.monotonic() - started >= 0.4
    assert windows.wait_for(3, 1) == ["slow but sure 🐢\nline 2"]


def shows_text(empty: Image.Image, now: Image.Image) -> bool:
    """Whether an input box shows more than it did empty (wider than a blinking caret)."""
    changed = ImageChops.difference(empty.convert("RGB"), now.convert("RGB")).getbbox()
    return changed is not None and changed[2] - changed[0] > 10


async def test_a_paste_that_never_shows_is_not_submitted(
    xserver: XServer,
    open_windows: Callable[..., AgentWindows],
    agents: list[Agent],
    make_driver: Callable[..., GuiDriver],
) -> None:
    windows = open_windows(slow_paste={5: 1200})
    impatient = make_driver(paste_timeout_s=0.3)
    receipt = await impatient.deliver(parcel(1, agents[5], "first try"))
    assert (receipt.ok, receipt.reason, receipt.retryable) == (False, "paste not seen", True)
    empty = grab(xserver, input_box(5))  # focused, the paste not shown yet
    deadline = time.monotonic() + 10  # the late paste lands in the input, unsubmitted
    while not shows_text(empty, grab(xserver, input_box(5))):
        assert time.monotonic() < deadline, "the late paste never showed"
        await asyncio.sleep(0.05)
    assert windows.texts(5) == []
    patient = make_driver(paste_timeout_s=3.0)
    receipt = await patient.deliver(parcel(1, agents[5], "second try"))
    assert receipt.ok, receipt.reason
    assert windows.wait_for(5, 1) == ["second try"]


async def test_ctrl_enter_submits_where_configured(
    open_windows: Callable[..., AgentWindows], agents: list[Agent], driver: GuiDriver
) -> None:
    windows = open_windows(ctrl_enter=[6])
    agent = Agent(id="Agent-7", role="r", input=agents[6].input, submit="ctrl+enter")
    receipt = await driver.deliver(parcel(1, agent, "line 1\nline 2"))
    assert receipt.ok, receipt.reason
    assert windows.wait_for(6, 1) == ["line 1\nline 2"]


async def test_many_deliveries_at_once_are_serialised(
    windows: SinceStart, agents: list[Agent], driver: GuiDriver
) -> None:
    texts = [f"broadcast {i} 📣\nto Agent-{i + 1}" for i in range(8)]
    jobs = [driver.deliver(parcel(i, agents[i], texts[i])) for i in range(8)]
    receipts = await asyncio.gather(*jobs)
    assert all(r.ok for r in receipts), [r.reason for r in receipts]
    assert [windows.wait_for(i, 1) for i in range(8)] == [[t] for t in texts]


async def test_clipboard_and_pointer_are_given_back(
    xserver: XServer, windows: SinceStart, agents: list[Agent], driver: GuiDriver
) -> None:
    xserver.set_clipboard("the user's clipboard ✓")
    xserver.xdotool("mousemove", "1000", "700")
    receipt = await driver.deliver(parcel(1, agents[0], "hello"))
    assert receipt.ok, receipt.reason
    assert xserver.pointer() == (1000, 700)
    assert xserver.clipboard() == "the user's clipboard ✓"


async def test_an_off_screen_point_fails_without_touching_the_mouse(
    xserver: XServer, windows: SinceStart, driver: GuiDriver
) -> None:
    xserver.xdotool("mousemove", "333", "222")
    for point in [(2500, 300), (-10, 50), (100, 1080)]:
        agent = Agent(id="Agent-9", role="r", input=point)
        receipt = await driver.deliver(parcel(1, agent, "nowhere"))
        assert (receipt.ok, receipt.reason, receipt.retryable) == (False, "off screen", False)
    assert xserver.pointer() == (333, 222)
    assert all(windows.texts(i) == [] for i in range(8))


async def test_the_kill_switch_pauses_before_anything_is_typed(
    xserver: XServer,
    windows: SinceStart,
    agents: list[Agent],
    driver: GuiDriver,
    kill_switch: KillSwitch,
) -> None:
    xserver.set_clipboard("untouched")
    xserver.xdotool("mousemove", "444", "333")
    kill_switch.engage("maintenance")
    receipt = await driver.deliver(parcel(1, agents[1], "must not arrive"))
    assert (receipt.ok, receipt.reason, receipt.retryable) == (False, "paused", True)
    assert receipt.deferred  # not attempted: core retries it without using up a try
    assert xserver.pointer() == (444, 333)
    assert xserver.clipboard() == "untouched"
    kill_switch.release()
    receipt = await driver.deliver(parcel(2, agents[1], "after release"))
    assert receipt.ok, receipt.reason
    assert windows.wait_for(1, 1) == ["after release"]


async def test_the_kill_switch_stops_a_delivery_between_steps(
    open_windows: Callable[..., AgentWindows],
    agents: list[Agent],
    driver: GuiDriver,
    kill_switch: KillSwitch,
) -> None:
    windows = open_windows(slow_paste={4: 800})
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, kill_switch.engage, "stop now")
    receipt = await driver.deliver(parcel(1, agents[4], "stopped half way"))
    assert (receipt.ok, receipt.reason) == (False, "paused")
    await asyncio.sleep(0.8)
    assert windows.texts(4) == []


async def test_the_failsafe_corner_aborts_and_engages_the_kill_switch(
    xserver: XServer,
    windows: SinceStart,
    agents: list[Agent],
    driver: GuiDriver,
    kill_switch: KillSwitch,
) -> None:
    xserver.xdotool("mousemove", "0", "0")
    receipt = await driver.deliver(parcel(7, agents[0], "must not arrive"))
    assert (receipt.ok, receipt.reason) == (False, "failsafe")
    assert kill_switch.engaged
    assert "failsafe" in (kill_switch.reason() or "")
    assert xserver.pointer() == (0, 0)
    assert windows.texts(0) == []
    receipt = await driver.deliver(parcel(8, agents[0], "still paused"))
    assert receipt.reason == "paused"
