"""Fixtures for the desktop driver tests: a private Xvfb, the fake agent windows, a driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from automation.desktop import virtual_desktop as desktop_env
from automation.desktop.gui import GuiDriver, GuiOptions
from automation.desktop.screen import x_display
from automation.desktop.virtual_desktop import AgentWindows, XServer, display_env
from core.agents_file import load_agents
from core.delivery._killswitch import KillSwitch
from core.models import Agent
from tests.automation.desktop_agents import agents_toml


@pytest.fixture(scope="session")
def private_xvfb(shared_xvfb: XServer) -> XServer:
    """The session's Xvfb (tests/conftest.py): a private 1920x1080 screen."""
    return shared_xvfb


@pytest.fixture
def xserver(private_xvfb: XServer, monkeypatch: pytest.MonkeyPatch) -> XServer:
    """The private Xvfb, with DISPLAY and XAUTHORITY pointing at it during the test only,
    the keyboard following the pointer as on a new display (:func:`keyboard_follows_pointer`).

    PyAutoGUI stays bound to the display it was first imported with: always this one here.
    """
    monkeypatch.setenv("DISPLAY", private_xvfb.display)
    monkeypatch.setenv("XAUTHORITY", str(private_xvfb.xauthority))
    keyboard_follows_pointer(private_xvfb)
    return private_xvfb


def keyboard_follows_pointer(server: XServer) -> None:
    """The X input focus given back to the pointer (PointerRoot). The session's display is
    shared with the mixed desktop of tests/apps, whose tests give a window the focus
    (``xdotool windowfocus``): it stays with that window, under this module's Tk windows,
    so a test's click into an input moved no focus and its typing went there."""
    from Xlib import X

    with display_env(server), x_display(server.display) as connection:
        connection.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
        connection.sync()


@pytest.fixture
def open_windows(xserver: XServer, tmp_path: Path) -> Iterator[Callable[..., AgentWindows]]:
    """Start the eight Tk windows (options: slow_paste={i: ms}, ctrl_enter=[i])."""
    started: list[AgentWindows] = []

    def start(slow_paste: dict[int, int] | None = None, ctrl_enter: Sequence[int] = ()):
        workdir = tmp_path / f"windows-{len(started)}"
        windows = desktop_env.open_windows(xserver, workdir, slow_paste, ctrl_enter)
        xserver.xdotool("mousemove", "960", "540")  # away from a corner an earlier test used
        started.append(windows)
        return windows

    yield start
    for windows in started:
        windows.stop()
    desktop_env.kill_display_clients(xserver.display, "xsel")


@pytest.fixture
def windows(open_windows: Callable[..., AgentWindows]) -> AgentWindows:
    """The eight Tk windows in their default mode."""
    return open_windows()


@pytest.fixture
def kill_switch(home: Path) -> KillSwitch:
    """The kill switch of ``home``."""
    return KillSwitch(home)


@pytest.fixture
def agents(tmp_path: Path) -> list[Agent]:
    """The agents matching the Tk windows, read through core's loader."""
    path = tmp_path / "agents.toml"
    path.write_text(agents_toml(), encoding="utf-8")
    return load_agents(path)


@pytest.fixture
def make_driver(
    xserver: XServer, home: Path, kill_switch: KillSwitch
) -> Iterator[Callable[..., GuiDriver]]:
    """Build GUI drivers on ``home`` (fast human check unless told otherwise); closed after."""
    drivers: list[GuiDriver] = []

    def make(**options: object) -> GuiDriver:
        settings = {"human_idle_s": 0.05, "human_wait_s": 5.0, **options}
        driver = GuiDriver(home, kill_switch, GuiOptions(**settings))  # type: ignore[arg-type]
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.close()


@pytest.fixture
def driver(make_driver: Callable[..., GuiDriver]) -> GuiDriver:
    """A GUI driver with the test options."""
    return make_driver()
