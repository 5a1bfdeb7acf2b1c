"""A replaced window recovers by itself (issue 28, item 2).

An agent's xterm dies and a person opens a new one at the same place. The driver had
remembered how the old window's input looked empty, and an attempt into the old window that
ended after its paste (the application frozen: "paste not seen") left the input marked as
holding an unsent paste. Before, every later delivery into the new window failed `input not
empty` until the coordinator restarted; now a new window under the point (another X window
or process) starts fresh, and the log says so once.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from automation.desktop.gui import UNSENT_NAME, GuiDriver, GuiOptions
from automation.desktop.input_clearing import UnsentPastes
from automation.desktop.virtual_desktop import display_env
from core.agents_file import load_agents
from core.delivery._killswitch import KillSwitch
from core.models import Agent
from core.protocols import Parcel
from tests.apps.desktop import MixedDesktop, missing_reason
from tests.conftest import skip_or_fail

LONG = "\n".join(f"line {n} of a long prompt, as agents get them" for n in range(1, 35))


@pytest.fixture
def one_xterm(shared_xvfb: Any, tmp_path: Path) -> Iterator[MixedDesktop]:
    """A terminal chat in an xterm of its own (cell 0, above the session's windows)."""
    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    desktop = MixedDesktop(["xterm"], tmp_path / "desk", server=shared_xvfb).start()
    try:
        yield desktop
    finally:
        desktop.stop()


def agent_of(desktop: MixedDesktop, tmp_path: Path) -> Agent:
    path = tmp_path / "agents.toml"
    path.write_text(desktop.agents_toml(), encoding="utf-8")
    (agent,) = load_agents(path)
    return agent


@pytest.mark.timeout(90)
async def test_a_new_xterm_at_the_same_place_takes_the_next_delivery_without_a_restart(
    one_xterm: MixedDesktop, tmp_path: Path, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    agent = agent_of(one_xterm, tmp_path)
    options = GuiOptions(human_idle_s=0.05, human_wait_s=5.0, paste_timeout_s=0.5)
    with display_env(one_xterm.xserver):
        one_xterm.xserver.xdotool("mousemove", "960", "540")
        driver = GuiDriver(home, KillSwitch(home), options)
        try:
            first = await driver.deliver(Parcel(1, agent, LONG, "test"))
            assert first.ok, first.reason
            assert one_xterm.wait_for("Agent-1", 1) == [LONG]
            one_xterm.wait_at_prompt("Agent-1")  # stopped at its prompt, not between two
            program = int((one_xterm.workdir / "Agent-1-term.ready").read_text())
            os.kill(program, signal.SIGSTOP)  # the agent's program hangs, then dies
            stuck = await driver.deliver(Parcel(2, agent, "into the frozen one", "test"))
            assert stuck.reason == "paste not seen"
            assert "Agent-1" in UnsentPastes(home / UNSENT_NAME)
            one_xterm.replace("Agent-1")  # killed; a new xterm opened at the same place
            caplog.set_level(logging.INFO, logger="automation.desktop.gui")
            receipts = []
            for n in (3, 4):
                one_xterm.wait_at_prompt("Agent-1")  # its program has read the last one
                text = f"after the new window {n}\nline 2"
                receipts.append(await driver.deliver(Parcel(n, agent, text, "test")))
        finally:
            driver.close()
    assert [r.reason for r in receipts] == [None, None]
    assert one_xterm.wait_for("Agent-1", 3) == [
        LONG,
        "after the new window 3\nline 2",
        "after the new window 4\nline 2",
    ]  # the new window's record follows the old one's (one file)
    said = [r.getMessage() for r in caplog.records if "a new window is under" in r.getMessage()]
    assert len(said) == 1, said
    assert said[0].startswith("Agent-1: a new window is under the input point, window 0x")
    assert '"Agent-1" (XTerm, pid ' in said[0]
    assert "Agent-1" not in UnsentPastes(home / UNSENT_NAME)
