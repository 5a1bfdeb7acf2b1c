"""A program in a tmux session inside a real xterm on the session's Xvfb: the window the
desktop driver types into, and the pane swarm reads; the agents file naming both."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.apps import launchers
from tests.apps.desktop import _xterm_geometry, cell
from tests.tmux_server import Tmux

CELL = 7  # the last cell of the 4x2 grid: the session's mixed desktop leaves it free
TARGET = "swarm:agent"


def columns() -> int:
    """The xterm's (and its pane's) width in columns."""
    return launchers.xterm_size(cell(CELL))[0]


@contextmanager
def tmux_xterm(
    server: Any, tmux: Tmux, folder: Path, name: str, program: str, ready: Callable[[], object]
) -> Iterator[Path]:
    """``program`` in tmux session ``swarm``, window ``agent``, in an xterm titled ``name``,
    once ``ready()``; the agents file of agent ``name`` there (``cli = "claude-code"``)."""
    x, y, width, height = cell(CELL)
    wide, rows = launchers.xterm_size((x, y, width, height))
    args = ["xterm", "-u8", "-fn", launchers.XTERM_FONT, "-geometry", f"{wide}x{rows}+{x}+{y}",
            "-T", name, "-e", "tmux", "-S", str(tmux.socket), "-f", "/dev/null", "new-session",
            "-s", "swarm", "-n", "agent", program]  # fmt: skip
    env = {**server.env, **launchers.UTF8, "PYTHONPATH": str(launchers.REPO)}
    with (folder / "xterm.log").open("wb") as log:
        xterm = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    launched = launchers.Launched(name, xterm, folder / "xterm.log")
    try:
        launchers.wait_until(ready, 30, f"{program} did not start: see {launched.log}", xterm)
        window = launchers.wait_for_window(server, name, 30, launched.log)
        point, text_box, _ = _xterm_geometry(launchers.window_box(server, window))
        agents = folder / "agents.toml"
        agents.write_text(
            f'[[agent]]\nid = "{name}"\nrole = "dev"\napp = "terminal"\n'
            f"input = [{point[0]}, {point[1]}]\ninput_box = {list(text_box)}\n"
            f"watch = {list(text_box)}\n"
            f'tmux = "{TARGET}"\ntmux_socket = "{tmux.socket}"\ncli = "claude-code"\n',
            encoding="utf-8",
        )
        yield agents
    finally:
        tmux.stop()
        launched.stop()
