"""A terminal program without bracketed paste (issue 28, item 5).

``python3 -c 'while 1: input()'`` in a real xterm reads whole lines in the terminal's
canonical mode: a pasted multi-line prompt reaches it as one submission per line. Before,
the driver pasted, saw the paste and the submit, and reported one delivery; now it reads the
terminal's mode first and refuses a multi-line text with a reason that says why (nothing
typed), while a one-line text still goes through.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from automation.desktop.gui import GuiDriver, GuiOptions
from automation.desktop.terminal_modes import find_terminal, read_state
from automation.desktop.virtual_desktop import display_env
from core.delivery._killswitch import KillSwitch
from core.models import Agent
from core.protocols import Parcel
from tests.apps import launchers
from tests.apps.desktop import _xterm_geometry, cell, missing_reason
from tests.conftest import skip_or_fail

LINE_READER = """
import os, sys
out = open(sys.argv[1], "a", encoding="utf-8")
ready = sys.argv[2]
open(ready + ".part", "w").write(str(os.getpid()))
os.replace(ready + ".part", ready)
while True:
    line = input()  # no readline module: the terminal's canonical mode reads the line
    out.write(line + "\\n")
    out.flush()
"""


@contextmanager
def _terminal_agent(
    shared_xvfb: Any, tmp_path: Path, name: str, at: int, source: str, clear: tuple[str, ...]
) -> Iterator[tuple[Agent, Path, Path]]:
    """An xterm in cell ``at`` running ``source`` (argv: record file, ready file); its agent,
    record file and ready file (the program's pid in it once started)."""
    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    record = tmp_path / f"{name}.txt"
    ready = tmp_path / f"{name}-term.ready"
    program = [sys.executable, "-c", source, str(record), str(ready)]
    launched = launchers.launch_xterm(shared_xvfb, name, cell(at), record, tmp_path, program)
    try:
        launchers.wait_until(ready.exists, 20, f"{name} did not start", launched.process)
        window = launchers.wait_for_window(shared_xvfb, name, 20, launched.log)
        point, input_box, _watch = _xterm_geometry(launchers.window_box(shared_xvfb, window))
        agent = Agent(id=name, role="r", input=point, input_box=input_box, app="terminal",
                      clear=clear, paste="ctrl+shift+v")  # fmt: skip
        yield agent, record, ready
    finally:
        launched.stop()


@pytest.fixture
def line_reader(shared_xvfb: Any, tmp_path: Path) -> Iterator[tuple[Agent, Path, int]]:
    """An xterm running a plain ``input()`` loop (cell 0); its agent, record file, pid."""
    clear = ("ctrl+e", "ctrl+u")
    with _terminal_agent(shared_xvfb, tmp_path, "Reader-1", 0, LINE_READER, clear) as made:
        agent, record, ready = made
        yield agent, record, int(ready.read_text())


def test_the_terminal_mode_of_a_line_reader_is_read_from_outside(
    line_reader: tuple[Agent, Path, int],
) -> None:
    _agent, _record, pid = line_reader
    xterm = next(p for p in Path("/proc").iterdir() if p.name == str(_parent(pid)))
    found = find_terminal(int(xterm.name))
    assert found is not None and found[0] == pid and found[1].startswith("/dev/pts/")
    state = read_state(*found)
    assert state is not None and state.canonical and state.foreground.startswith("python")


@pytest.mark.timeout(60)
async def test_a_multi_line_prompt_is_refused_for_a_line_reader_and_one_line_goes_through(
    shared_xvfb: Any, line_reader: tuple[Agent, Path, int], home: Path
) -> None:
    agent, record, _pid = line_reader
    prompt = "[swarm] from scheduler to Reader-1 | task T-1\n\nT-1: five lines\nfour\nfive"
    options = GuiOptions(human_idle_s=0.05, human_wait_s=5.0)
    with display_env(shared_xvfb):
        shared_xvfb.xdotool("mousemove", "960", "540")
        driver = GuiDriver(home, KillSwitch(home), options)
        try:
            refused = await driver.deliver(Parcel(1, agent, prompt, "test"))
            one_line = await driver.deliver(Parcel(2, agent, "one line is fine", "test"))
        finally:
            driver.close()
    assert (refused.reason, refused.retryable) == (
        "no bracketed paste: each line would be sent alone",
        True,  # tried again later: a busy agent is in this mode between two prompts
    )
    assert one_line.ok, one_line.reason
    assert read_lines(record, 1) == ["one line is fine"]  # none of the five lines came


BUSY_THEN_PROMPT = """
import os, sys, time, tty
out = open(sys.argv[1], "a", encoding="utf-8")
ready = sys.argv[2]
open(ready + ".part", "w").write(str(os.getpid()))
os.replace(ready + ".part", ready)
while not os.path.exists(ready + ".go"):
    time.sleep(0.02)
time.sleep(0.6)  # still working: the terminal stays in its canonical mode meanwhile
tty.setcbreak(0)  # at its prompt: keys one by one, bracketed paste on (as prompt_toolkit)
os.write(1, b"\\x1b[?2004h> ")
seen = b""
while True:
    chunk = os.read(0, 65536)
    seen += chunk
    shown = chunk.replace(b"\\x1b[200~", b"").replace(b"\\x1b[201~", b"")
    os.write(1, shown.replace(b"\\r", b"\\n").replace(b"\\n", b"\\r\\n"))
    if b"\\x1b[201~" in seen and seen.rstrip(b"\\x00").endswith((b"\\r", b"\\n")):
        start = seen.index(b"\\x1b[200~") + 6
        pasted = seen[start : seen.index(b"\\x1b[201~")].decode().replace("\\r", "\\n")
        out.write(repr(pasted) + "\\n")
        out.flush()
        seen = b""
"""


@pytest.fixture
def busy_agent(shared_xvfb: Any, tmp_path: Path) -> Iterator[tuple[Agent, Path, Path]]:
    """An xterm whose program works (canonical mode) for a moment after ``.go`` appears,
    then waits at a prompt with bracketed paste on; its agent, record file, go file."""
    with _terminal_agent(shared_xvfb, tmp_path, "Busy-1", 1, BUSY_THEN_PROMPT, ()) as made:
        agent, record, ready = made
        yield agent, record, ready.with_name(ready.name + ".go")


async def test_a_busy_agent_between_two_prompts_gets_its_prompt_once_back_at_it(
    shared_xvfb: Any, busy_agent: tuple[Agent, Path, Path], home: Path
) -> None:
    """Canonical mode for a moment (the agent works) is not a line reader: the driver waits
    for the prompt and the multi-line text arrives as one input."""
    agent, record, go = busy_agent
    prompt = "[swarm] from scheduler to Busy-1 | note\n\nthree\nlines"
    options = GuiOptions(human_idle_s=0.05, human_wait_s=5.0)
    with display_env(shared_xvfb):
        shared_xvfb.xdotool("mousemove", "960", "540")
        driver = GuiDriver(home, KillSwitch(home), options)
        try:
            go.touch()
            receipt = await driver.deliver(Parcel(1, agent, prompt, "test"))
        finally:
            driver.close()
    assert receipt.ok, receipt.reason
    assert read_lines(record, 1) == [repr(prompt)]


def read_lines(path: Path, count: int, timeout: float = 5.0) -> list[str]:
    """The lines the reader recorded once there are ``count`` (and 0.3 s more passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text(encoding="utf-8").splitlines()) >= count:
            break
        time.sleep(0.02)
    time.sleep(0.3)
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2 :].split()[1])
