"""Fixtures: one mixed desktop of real applications per test session, and a human at it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from automation.virtual_desktop import XServer
from tests.apps.desktop import AppWindow, MixedDesktop, missing_reason
from tests.conftest import skip_or_fail

SPEC = ("chrome", "chrome", "xterm", "xterm", "tk", "tk-slow")
SLOW_PASTE_MS = 800


@pytest.fixture(scope="session")
def apps_desktop(
    tmp_path_factory: pytest.TempPathFactory, shared_xvfb: XServer
) -> Iterator[MixedDesktop]:
    """Two Chromium, two xterm and two Tk windows (one slow) on the session's Xvfb, no WM."""
    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    workdir = tmp_path_factory.mktemp("apps-desktop")
    desktop = MixedDesktop(SPEC, workdir, slow_paste_ms=SLOW_PASTE_MS, server=shared_xvfb)
    desktop.start()
    try:
        yield desktop
    finally:
        desktop.stop()


class Person:
    """Someone at the keyboard, acting through xdotool, who gives focus explicitly."""

    def __init__(self, desktop: MixedDesktop) -> None:
        self.desktop = desktop
        self.server = desktop.xserver

    def click_into(self, window: AppWindow) -> None:
        """Click the input point, then give the window the keyboard (no window manager)."""
        x, y = window.input
        self.server.xdotool("mousemove", str(x), str(y), "click", "1")
        self.server.xdotool("windowfocus", "--sync", str(window.window))

    def keys(self, *keys: str) -> None:
        """Press key combinations (xdotool names), one after the other."""
        self.server.xdotool("key", "--clearmodifiers", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` key by key."""
        self.server.xdotool("type", "--delay", "5", text)

    def set_clipboard(self, text: str) -> None:
        """Copy ``text`` (the CLIPBOARD selection), as Ctrl+C elsewhere would."""
        self._select("--clipboard", text)

    def set_primary(self, text: str) -> None:
        """Select ``text`` (the PRIMARY selection), as a mouse selection elsewhere would."""
        self._select("--primary", text)

    def _select(self, selection: str, text: str, timeout: float = 5.0) -> None:
        """Own ``selection`` with ``text`` through xsel; wait until it reads back."""
        subprocess.run(["xsel", selection, "--input"], input=text.encode(), env=self.server.env,
                       check=True, timeout=10, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + timeout
        while self._read(selection) != text:
            if time.monotonic() > deadline:
                raise RuntimeError(f"xsel did not take the {selection[2:]} selection")
            time.sleep(0.01)

    def _read(self, selection: str) -> str:
        """The selection's text; empty when its owner does not answer within 1 s."""
        args = ["xsel", selection, "--output", "--selectionTimeout", "1000"]
        done = subprocess.run(args, env=self.server.env, capture_output=True, timeout=10)
        return done.stdout.decode()


@pytest.fixture
def person(apps_desktop: MixedDesktop) -> Person:
    """The human at the shared desktop."""
    return Person(apps_desktop)
