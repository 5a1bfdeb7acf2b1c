"""A working day, end to end (issue 28): five agents of three kinds, a real coordinator.

Two Chromium chat windows, two terminal chats in xterms and an inbox agent. A wrong point
(Agent-4's input inside Agent-3's input box) is caught by ``swarm agents check`` and fixed;
``swarm run`` delivers a task to each; a task is moved from Agent-1 to Agent-2 (Agent-1 is
told it is withdrawn, Agent-2 gets it with the handoff, no attempt used); Agent-3's xterm
dies and a new one is opened at the same place, and the next message reaches it without a
restart; every task is reported done and the coordinator stops cleanly.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.apps.desktop import MixedDesktop, missing_reason
from tests.conftest import skip_or_fail
from tests.helpers import ROOT, CliResult, cli_env, run_cli

INBOX_AGENT = '\n[[agent]]\nid = "Agent-5"\nrole = "inbox-5"\ndelivery = "inbox"\n'


@pytest.fixture
def day_desktop(shared_xvfb: Any, tmp_path: Path) -> Iterator[MixedDesktop]:
    """Two Chromium chats and two xterm terminal chats (the top row of cells)."""
    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    desktop = MixedDesktop(["chrome", "chrome", "xterm", "xterm"], tmp_path / "desk",
                           server=shared_xvfb).start()  # fmt: skip
    try:
        yield desktop
    finally:
        desktop.stop()


def wait_until(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` at the timeout."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.05)
    return found


class Day:
    """The CLI and the windows of one day."""

    def __init__(self, desktop: MixedDesktop, home: Path, config: Path) -> None:
        self.desktop = desktop
        self.home = home
        self.config = config
        server = desktop.xserver
        self.env = {"DISPLAY": server.display, "XAUTHORITY": str(server.xauthority)}

    def cli(self, *args: str, agent: str | None = None) -> CliResult:
        return run_cli(self.home, *args, config=self.config, agent=agent, env=self.env)

    def ok(self, *args: str, agent: str | None = None) -> str:
        result = self.cli(*args, agent=agent)
        assert result.code == 0, f"swarm {' '.join(args)}: {result.err}"
        return result.out

    def received(self, agent: str) -> list[str]:
        if agent == "Agent-5":
            folder = self.home / "inbox" / agent
            files = sorted(folder.glob("[!.]*")) if folder.exists() else []
            return [path.read_text(encoding="utf-8") for path in files]
        return self.desktop.texts(agent)

    def wait_for_text(self, agent: str, part: str, timeout: float = 20.0) -> str:
        def found() -> str | None:
            return next((t for t in self.received(agent) if part in t), None)

        return str(wait_until(f"{part!r} in what {agent} received", found, timeout))


@pytest.mark.timeout(150)
def test_a_working_day_with_five_agents_of_three_kinds(
    day_desktop: MixedDesktop, tmp_path: Path
) -> None:
    started = time.monotonic()
    home, config = tmp_path / "home", tmp_path / "agents.toml"
    day = Day(day_desktop, home, config)
    good = day_desktop.agents_toml(INBOX_AGENT)
    third = day_desktop.window("Agent-3").input_box
    inside = [third[0] + 20, third[1] + 20]  # Agent-4's point, mistakenly in Agent-3's box
    config.write_text(
        good.replace(f"input = {list(day_desktop.window('Agent-4').input)}", f"input = {inside}"),
        encoding="utf-8",
    )
    wrong = day.cli("agents", "check")
    assert wrong.code == 1
    assert "Agent-4's input point" in wrong.out and "is inside Agent-3's input box" in wrong.out
    config.write_text(good, encoding="utf-8")  # calibrated again
    checked = day.ok("agents", "check").splitlines()
    assert [line.split()[0] for line in checked] == [f"Agent-{n}" for n in range(1, 6)]
    assert all(" window 0x" in line for line in checked[:4]) and checked[4].endswith(" inbox")

    log = tmp_path / "run.log"
    run_env = cli_env(home, config, env=day.env) | {
        "SWARM_WEB": "off", "SWARM_HUMAN_IDLE": "0.1", "SWARM_HUMAN_WAIT": "5",
    }  # fmt: skip
    with log.open("wb") as out:
        coordinator = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--no-discord"],
                                       env=run_env, cwd=ROOT, stdout=out, stderr=out)  # fmt: skip
    try:
        for n in range(1, 6):
            day.ok("task", "add", f"job {n} of the day", "--agent", f"Agent-{n}")
        for n in range(1, 6):
            day.wait_for_text(f"Agent-{n}", f"T-{n}: job {n} of the day")

        # Agent-2 finishes; T-1 moves from Agent-1 to Agent-2
        day.ok("task", "done", "T-2", "--note", "shipped", agent="Agent-2")
        day.ok("task", "assign", "T-1", "Agent-2")
        withdrawn = day.wait_for_text("Agent-1", "WITHDRAWN")
        assert "| T-1 is no longer yours (not a new task)" in withdrawn
        assert "task done" not in withdrawn
        moved = day.wait_for_text("Agent-2", "HANDOFF: T-1 comes to you from Agent-1")
        assert "T-1: job 1 of the day" in moved
        assert json.loads(day.ok("task", "show", "T-1", "--json"))["attempts"] == 1

        # Agent-3's xterm dies; a new one at the same place takes the next message
        day_desktop.replace("Agent-3")
        day.ok("send", "Agent-3", "are you there?\nsecond line")
        day.wait_for_text("Agent-3", "are you there?\nsecond line")

        for ref, agent in (("T-1", "Agent-2"), ("T-3", "Agent-3"), ("T-4", "Agent-4"),
                           ("T-5", "Agent-5")):  # fmt: skip
            day.ok("task", "done", ref, agent=agent)
        tasks = json.loads(day.ok("task", "list", "--all", "--json"))
        assert sorted((t["id"], t["status"]) for t in tasks) == [
            (f"T-{n}", "done") for n in range(1, 6)
        ]
    finally:
        coordinator.send_signal(signal.SIGINT)
        code = coordinator.wait(30)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert code == 0, text[-3000:]
    assert ": failed (" not in text, text[-3000:]  # no delivery failed all day
    took = time.monotonic() - started
    print(f"the day took {took:.1f} s (the windows' start: {day_desktop.startup_s:.1f} s)")
