"""A stop of two keys into a busy CLI, and into one whose arm lapses (issue 79, item 2):
opencode 1.18 arms its interrupt at
the first Escape ("esc again to interrupt") and stops at the second, but a busy opencode
reads its terminal seldom, and two Escapes 0.2 s apart read at once are one Alt+Escape: the
turn ran on (seen in CI). Here a program in a real tmux pane draws opencode's footer and
reads its keys once every 2 s, as a busy TUI does; swarm's stop presses the second key once
the pane shows the first armed it. Without that wait both keys land in one read 9 times in
10 and the pane still reads working.

opencode also counts its Escapes and sets each count back to 0 five seconds after each one:
an earlier stop's lapse that lands between a new stop's two keys undoes the first, and the
second only arms again (seen live on 1.18.33: the turn ran on, the arm shown). A program that
counts as opencode does, its lapse placed on either side of a frame, is stopped all the
same: swarm presses again by what the pane shows once the program has read its key."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.tmux.delivery import TmuxDeliverer
from automation.tmux.interrupt import (
    QUITS_MARGIN_S,
    SHOWN_S,
    Interrupted,
    Lately,
    Outcome,
    PaneKeys,
)
from core.clis import by_name
from core.delivery import KillSwitch
from core.models import Agent
from core.tmux import SharedReads
from tests.tmux_server import Tmux, wait_text

BUSY_TUI = r"""
import os, sys, termios, time, tty
tty.setraw(0)
os.set_blocking(0, False)
def draw(footer):
    box = "\x1b[2J\x1b[H┃  work for a long while\r\n┃\r\n┃  Build · Local model localmodel\r\n"
    sys.stdout.write(box + ("   ■■⬝⬝  " + footer + "\r\n" if footer else "") + "\r\n")
    sys.stdout.flush()
armed, reads = False, []
draw("esc interrupt")
while True:
    time.sleep(2.0)  # at work: its keys read once every 2 s
    try:
        data = os.read(0, 64)
    except BlockingIOError:
        continue
    reads.append(data)
    if data == b"\x1b" and armed:
        draw("")
        sys.stdout.write("▣  Build · Local model · interrupted\r\n" + repr(reads) + "\r\n")
        sys.stdout.flush()
    elif data == b"\x1b":
        armed = True
        draw("esc again to interrupt")
    else:  # b"\x1b\x1b": Alt+Escape, nothing to it
        draw("esc interrupt" if not armed else "esc again to interrupt")
        sys.stdout.write(repr(reads) + "\r\n")
        sys.stdout.flush()
"""


LAPSING_TUI = r"""
import os, sys, time, tty
tty.setraw(0)
os.set_blocking(0, False)
LAPSE = sys.argv[1]  # when an earlier Escape's lapse lands: "before-second", "before-frame"
count, reads, frame, stale = 0, [], 0, True
def draw(footer):
    box = "\x1b[2J\x1b[H┃  work for a long while\r\n┃\r\n┃  Build · Local model localmodel\r\n"
    spin = "■⬝⬝⬝"[frame % 4:] + "■⬝⬝⬝"[:frame % 4]
    sys.stdout.write(box + "   " + spin + "  " + footer + "\r\n")
    sys.stdout.flush()
while True:
    time.sleep(0.05)  # at work, drawing its spinner; its keys read at each frame
    frame += 1
    try:
        data = os.read(0, 64)
    except BlockingIOError:
        data = b""
    if data:
        reads.append(data)
    for key in [b"\x1b"] * data.count(b"\x1b") if data == b"\x1b" * len(data) else []:
        if stale and LAPSE == "before-second" and count == 1:
            count, stale = 0, False  # the lapse fires before the second Escape is handled
        count += 1
        if stale and LAPSE == "before-frame":
            count, stale = 0, False  # the lapse fires before the arm is ever drawn
        if count >= 2:
            sys.stdout.write("\x1b[2J\x1b[H┃  work for a long while\r\n┃\r\n")
            sys.stdout.write("┃  Build · Local model localmodel\r\n\r\n")
            sys.stdout.write("▣  Build · Local model · interrupted\r\n" + repr(reads) + "\r\n")
            sys.stdout.flush()
            while True:
                time.sleep(1)
    draw("esc again to interrupt" if count else "esc interrupt")
"""


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """A private tmux server whose pane ``agents:a`` is the busy program."""
    program = tmp_path / "busy_tui.py"
    program.write_text(BUSY_TUI, "utf-8")
    server = Tmux(tmp_path / "tmux.sock")
    server.window("agents", "a", f"exec {sys.executable} {program}")
    try:
        wait_text(server.ref("agents:a"), "esc interrupt")
        yield server
    finally:
        server.stop()


async def test_the_second_escape_waits_for_the_first_to_arm_the_interrupt(
    tmp_path: Path, tmux: Tmux
) -> None:
    cli = by_name("opencode")
    assert cli is not None and cli.interrupt == ("escape", "escape") and cli.interrupt_armed
    agent = Agent("A", "dev", delivery="tmux", cli="opencode", tmux="agents:a",
                  tmux_socket=str(tmux.socket))  # fmt: skip
    deliverer = TmuxDeliverer(tmp_path / "home", KillSwitch(tmp_path / "home"))
    try:
        done = await deliverer.interrupt(agent, cli)
    finally:
        deliverer.close()
    shown = wait_text(tmux.ref("agents:a"), "interrupted")
    assert "[b'\\x1b', b'\\x1b']" in shown, shown  # each Escape read on its own
    assert done.outcome is Outcome.IDLE, shown


@pytest.mark.parametrize("lapse", ["before-second", "before-frame"])
async def test_a_lapse_between_the_keys_is_read_off_the_pane_and_the_turn_still_stops(
    tmp_path: Path, lapse: str
) -> None:
    done, shown = await stopped_in_pane(
        tmp_path, LAPSING_TUI, lapse, "opencode", "esc interrupt", "interrupted"
    )
    assert done.outcome is Outcome.IDLE, shown
    assert "[b'\\x1b', b'\\x1b', b'\\x1b']" in "".join(shown), shown  # three, each alone


async def stopped_in_pane(
    tmp_path: Path, source: str, args: str, cli_name: str, ready: str, after: str
) -> tuple[Interrupted, list[str]]:
    """``source`` run as the pane of agent A (CLI ``cli_name``) on a private tmux server, once
    it shows ``ready`` stopped by swarm's tmux deliverer: its outcome, and the pane's lines
    once they show ``after``."""
    program = tmp_path / "pane_tui.py"
    program.write_text(source, "utf-8")
    server = Tmux(tmp_path / "tmux.sock")
    server.window("agents", "a", f"exec {sys.executable} {program} {args}")
    cli = by_name(cli_name)
    assert cli is not None
    agent = Agent("A", "dev", delivery="tmux", cli=cli_name, tmux="agents:a",
                  tmux_socket=str(server.socket))  # fmt: skip
    deliverer = TmuxDeliverer(tmp_path / "home", KillSwitch(tmp_path / "home"))
    try:
        wait_text(server.ref("agents:a"), ready)
        done = await deliverer.interrupt(agent, cli)
        return done, wait_text(server.ref("agents:a"), after)
    finally:
        deliverer.close()
        server.stop()


def test_the_panes_notes_are_read_by_any_process_and_bounded(tmux: Tmux) -> None:
    """What a swarm process notes on a pane (a prompt taken, keys pressed) another one reads
    off the tmux server (a person's ``swarm agents stop`` after ``swarm run``'s delivery).
    The notes are pane options: a value that is no time is none, and one in the future
    (an unsandboxed agent can set them) makes swarm wait no longer than the CLI's bound."""
    keys = PaneKeys(SharedReads(10.0), 10.0)
    ref = tmux.ref("agents:a")
    assert keys.lately(ref) == Lately()
    keys.note(ref, "taken")
    keys.note(ref, "pressed")
    noted = PaneKeys(SharedReads(10.0), 10.0).lately(ref)  # another reader: the server's
    assert noted.taken is not None and abs(noted.taken - time.time()) < 5
    assert 2.0 < noted.quits_wait_s(2.0) <= 2.0 + QUITS_MARGIN_S and noted.quits_wait_s(0.0) == 0
    for hostile in ("inf", "nan", "-5", "x", "1e400"):
        tmux.run("set-option", "-p", "-t", "agents:a", "@swarm-pressed", hostile)
        assert keys.lately(ref).pressed is None, hostile
    tmux.run("set-option", "-p", "-t", "agents:a", "@swarm-pressed", str(time.time() + 1e6))
    tmux.run("set-option", "-p", "-t", "agents:a", "@swarm-taken", str(time.time() + 1e6))
    future = keys.lately(ref)
    assert future.quits_wait_s(2.0) == 2.0 + QUITS_MARGIN_S
    assert future.shows_by() - time.monotonic() <= SHOWN_S
