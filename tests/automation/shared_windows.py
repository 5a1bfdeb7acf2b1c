"""The eight Tk windows in their default mode, opened once per test module that imports
these fixtures (``default_windows``); a test sees them through ``windows``: what each
window received since the test began."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from automation.desktop import virtual_desktop as desktop_env
from automation.desktop.virtual_desktop import AgentWindows, XServer


class SinceStart:
    """The module's default windows as a test sees them: what each received since it began."""

    def __init__(self, windows: AgentWindows) -> None:
        self.windows = windows
        self.before = {i: len(windows.texts(i)) for i in range(8)}

    def texts(self, index: int) -> list[str]:
        """The texts window ``index`` received during this test."""
        return self.windows.texts(index)[self.before[index] :]

    def wait_for(self, index: int, count: int, timeout: float = 5.0) -> list[str]:
        """This test's texts of window ``index`` once there are ``count`` (or at the timeout)."""
        return self.windows.wait_for(index, self.before[index] + count, timeout)[
            self.before[index] :
        ]


@pytest.fixture(scope="module")
def default_windows(
    private_xvfb: XServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentWindows]:
    """The eight Tk windows in their default mode, opened once for the module's tests that
    ask for no option (an opening takes about 0.5 s); closed after them."""
    windows = desktop_env.open_windows(private_xvfb, tmp_path_factory.mktemp("windows"))
    yield windows
    windows.stop()


@pytest.fixture
def windows(xserver: XServer, default_windows: AgentWindows) -> Iterator[SinceStart]:
    """The default windows, counted from the test's start, the pointer away from a corner
    (before and after: the display is the session's, and the failsafe test leaves it in one)."""
    xserver.xdotool("mousemove", "960", "540")
    yield SinceStart(default_windows)
    xserver.xdotool("mousemove", "960", "540")
    desktop_env.kill_display_clients(xserver.display, "xsel")
