"""Fixtures: a human at the session's mixed desktop (``apps_desktop``, tests/conftest.py)."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.apps.desktop import AppWindow, MixedDesktop


class Person:
    """Someone at the keyboard, acting through xdotool, who gives focus explicitly."""

    def __init__(self, desktop: MixedDesktop) -> None:
        self.desktop = desktop
        self.server = desktop.xserver

    def click_into(self, window: AppWindow) -> None:
        """Click the input point, then give the window the keyboard (no window manager); a
        terminal's chat program is back at its prompt first (a person sees the prompt)."""
        self.desktop.wait_at_prompt(window.name)
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

    def _select(self, selection: str, text: str, timeout: float = 10.0) -> None:
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
        """The selection's text; empty when its owner does not answer within 1 s (xsel can
        hang past its ``--selectionTimeout`` while the owner changes: then it is killed)."""
        args = ["xsel", selection, "--output", "--selectionTimeout", "1000"]
        try:
            done = subprocess.run(args, env=self.server.env, capture_output=True, timeout=2)
        except subprocess.TimeoutExpired:
            return ""
        return done.stdout.decode()


@pytest.fixture(autouse=True)
def settled_terminals(request: pytest.FixtureRequest) -> None:
    """A test on the session's desktop starts with its terminal chats at their prompts (the
    previous test's last message may still be on its way into one)."""
    if "apps_desktop" not in request.fixturenames:
        return
    desktop: MixedDesktop = request.getfixturevalue("apps_desktop")
    for window in desktop.windows:
        desktop.wait_at_prompt(window.name)


@pytest.fixture
def person(apps_desktop: MixedDesktop) -> Person:
    """The human at the shared desktop."""
    return Person(apps_desktop)
