"""The in-process X selection owner and reader, checked with xsel as the other application."""

from __future__ import annotations

import subprocess

import pytest

from automation.desktop.clipboard import Clipboard
from automation.desktop.selection import XSelections
from automation.desktop.virtual_desktop import XServer


def xsel(server: XServer, *args: str, data: str | None = None) -> str:
    done = subprocess.run(
        ["xsel", *args],
        input=data.encode() if data is not None else None,
        env=server.env,
        capture_output=True,
        timeout=10,
    )
    return done.stdout.decode()


@pytest.fixture
def selections(xserver: XServer):
    owner = XSelections(xserver.display)
    yield owner
    owner.close()


def test_other_applications_read_what_we_own(xserver: XServer, selections: XSelections) -> None:
    text = "multi-line ✓\n\tunicode: 你好 🚀\n" + "x" * 30_000
    assert selections.own("CLIPBOARD", text) and selections.own("PRIMARY", "primary ✓")
    assert xsel(xserver, "--clipboard", "--output") == text
    assert xsel(xserver, "--primary", "--output") == "primary ✓"
    assert selections.read("CLIPBOARD") == text


def test_we_read_other_owners_and_let_go_when_they_take_over(
    xserver: XServer, selections: XSelections
) -> None:
    assert selections.own("CLIPBOARD", "ours")
    xserver.set_clipboard("theirs ✓")  # xsel takes the selection from us
    assert not selections.owns("CLIPBOARD")
    assert selections.read("CLIPBOARD") == "theirs ✓"


def test_released_selection_is_empty(xserver: XServer, selections: XSelections) -> None:
    assert selections.own("CLIPBOARD", "for a moment")
    selections.release("CLIPBOARD")
    assert selections.read("CLIPBOARD") is None
    assert xsel(xserver, "--clipboard", "--output") == ""


def test_the_users_clipboard_outlives_the_process(xserver: XServer) -> None:
    clipboard = Clipboard(1.0, xserver.display)
    xserver.set_clipboard("the user's text")
    saved = clipboard.save(with_primary=False)
    assert clipboard.put("a prompt", 1.0) and xserver.clipboard() == "a prompt"
    assert clipboard.restore(saved, 1.0)
    clipboard.close()  # what we served goes to xsel's background process
    assert xserver.clipboard() == "the user's text"
