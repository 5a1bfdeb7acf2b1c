"""Starting Xvfb on a display number another server has just taken (two processes probing the
same free number at once): the loser must not take the winner's socket for its own server."""

from __future__ import annotations

from pathlib import Path

from automation.desktop.virtual_desktop import XServer, _try_start, xvfb_path


def test_a_taken_display_is_not_mistaken_for_ours(shared_xvfb: XServer, tmp_path: Path) -> None:
    executable = xvfb_path()
    assert executable is not None
    number = int(shared_xvfb.display.lstrip(":"))
    for _ in range(3):  # the old check answered from the other server's socket at once
        server = _try_start(executable, number, tmp_path, timeout=10.0, use_auth=True)
        assert server is None
    assert shared_xvfb.process.poll() is None  # the owner is untouched
