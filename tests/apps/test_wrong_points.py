"""Wrong input points, on real windows (issue 28, item 3).

``swarm agents check`` names the window under each point (title, class, pid) and refuses,
with exit 1 and one line each, a point inside another agent's input box, a point over the
bare desktop and two agents in one window; inbox agents are "inbox". The driver never
leaves text in a window it does not own: a paste not seen in the agent's input box is looked
for in the input boxes of the other agents in that window and cleared there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from automation.desktop.gui import GuiDriver, GuiOptions
from automation.desktop.screen import x_display
from automation.desktop.virtual_desktop import XServer, display_env
from automation.desktop.windows import window_at
from core.agents_file import load_agents
from core.delivery._killswitch import KillSwitch
from core.protocols import Parcel
from tests.apps.desktop import AppWindow, MixedDesktop, missing_reason
from tests.conftest import skip_or_fail
from tests.helpers import run_cli

BARE = (1700, 800)  # the bottom right cell: no window of the tests there


@pytest.fixture
def four_windows(shared_xvfb: Any, tmp_path: Path) -> Iterator[MixedDesktop]:
    """Two Chromium chats and two terminal chats in xterms (the top row of cells)."""
    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    desktop = MixedDesktop(["chrome", "chrome", "xterm", "xterm"], tmp_path / "desk",
                           server=shared_xvfb).start()  # fmt: skip
    try:
        yield desktop
    finally:
        desktop.stop()


def centre(box: tuple[int, int, int, int]) -> tuple[int, int]:
    x, y, width, height = box
    return x + width // 2, y + height // 2


def wrong_agents(desktop: MixedDesktop) -> str:
    """The four windows' agents, plus: Agent-5 over the bare desktop, Agent-6 in Agent-2's
    window (its history, outside its input box), Agent-7 inside Agent-4's input box (its own
    box elsewhere, as calibrated before the windows moved), Agent-8 an inbox agent."""
    history = centre(desktop.window("Agent-2").watch)
    inside = centre(desktop.window("Agent-4").input_box)
    return desktop.agents_toml(
        f'\n[[agent]]\nid = "Agent-5"\nrole = "extra"\ninput = {list(BARE)}\n'
        f'\n[[agent]]\nid = "Agent-6"\nrole = "extra"\ninput = {list(history)}\n'
        f'\n[[agent]]\nid = "Agent-7"\nrole = "extra"\napp = "terminal"\n'
        f"input = {list(inside)}\ninput_box = [1500, 600, 300, 150]\n"
        '\n[[agent]]\nid = "Agent-8"\nrole = "extra"\ndelivery = "inbox"\n'
    )


def screen_env(server: XServer) -> dict[str, str]:
    return {"DISPLAY": server.display, "XAUTHORITY": str(server.xauthority)}


def test_agents_check_names_each_window_and_refuses_wrong_points(
    four_windows: MixedDesktop, tmp_path: Path
) -> None:
    server = four_windows.xserver
    with display_env(server), x_display(server.display) as display:
        assert window_at(display, *BARE) is None  # the bare desktop indeed
    config = tmp_path / "agents.toml"
    config.write_text(wrong_agents(four_windows), encoding="utf-8")
    result = run_cli(tmp_path / "home", "agents", "check", config=config, env=screen_env(server))
    assert result.code == 1, result.out + result.err
    lines: dict[str, list[str]] = {}
    for line in result.out.splitlines():
        agent, text = line.split(None, 1)
        lines.setdefault(agent, []).append(text)
    xterm_pid = int((four_windows.workdir / "Agent-3-term.ready").read_text())
    (first,) = lines["Agent-1"]
    assert first.startswith("window 0x") and '"Agent-1" (' in first and ", pid " in first
    (third,) = lines["Agent-3"]
    assert third.startswith("window 0x") and '"Agent-3" (XTerm, pid ' in third
    assert str(xterm_pid) not in third  # the pid is xterm's, not the program's inside it
    assert lines["Agent-5"] == [f"input point ({BARE[0]}, {BARE[1]}) is over the bare desktop: "
                                "no window there"]  # fmt: skip
    assert any("in one window with Agent-6" in t and '"Agent-2"' in t for t in lines["Agent-2"])
    assert any("in one window with Agent-2" in t for t in lines["Agent-6"])
    inside = [t for t in lines["Agent-7"] if "is inside Agent-4's input box" in t]
    assert len(inside) == 1 and "(under it: window 0x" in inside[0] and '"Agent-4"' in inside[0]
    assert any("in one window with Agent-4" in t for t in lines["Agent-7"])
    assert lines["Agent-8"] == ["inbox"]
    as_json = json.loads(
        run_cli(tmp_path / "home", "agents", "check", "--json", config=config,
                env=screen_env(server)).out
    )  # fmt: skip
    rows = {row["agent"]: row for row in as_json}
    assert rows["Agent-3"]["ok"] and rows["Agent-3"]["window"]["class"] == "XTerm"
    assert rows["Agent-3"]["window"]["title"] == "Agent-3"
    assert rows["Agent-8"] == {"agent": "Agent-8", "ok": True, "delivery": "inbox",
                               "problems": [], "window": None}  # fmt: skip
    assert not rows["Agent-5"]["ok"] and rows["Agent-5"]["window"] is None


def test_doctor_names_the_windows_and_the_wrong_points(
    four_windows: MixedDesktop, tmp_path: Path
) -> None:
    config = tmp_path / "agents.toml"
    config.write_text(wrong_agents(four_windows), encoding="utf-8")
    result = run_cli(tmp_path / "home", "doctor", "--timeout", "1", config=config,
                     env=screen_env(four_windows.xserver))  # fmt: skip
    assert result.code == 1
    found = [line.split(None, 3) for line in result.out.splitlines() if "input points" in line]
    status = {detail.split(":", 1)[0]: state for state, _, _, detail in found}
    assert status == {"Agent-1": "ok", "Agent-2": "PROBLEM", "Agent-3": "ok",
                      "Agent-4": "PROBLEM", "Agent-5": "PROBLEM", "Agent-6": "PROBLEM",
                      "Agent-7": "PROBLEM", "Agent-8": "ok"}  # fmt: skip
    assert "ok       input points  Agent-8: inbox" in result.out
    assert "ok       input points  Agent-3: window 0x" in result.out


@pytest.mark.timeout(90)
async def test_a_paste_that_lands_in_another_agents_input_is_cleared_there(
    four_windows: MixedDesktop, tmp_path: Path, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Agent-7's point is inside Agent-4's input: the paste lands there, not in Agent-7's
    box. It must not stay there for Agent-4 (or a person) to submit."""
    server = four_windows.xserver
    config = tmp_path / "agents.toml"
    config.write_text(wrong_agents(four_windows), encoding="utf-8")
    agents = {agent.id: agent for agent in load_agents(config)}
    victim: AppWindow = four_windows.window("Agent-4")
    options = GuiOptions(human_idle_s=0.05, human_wait_s=5.0, paste_timeout_s=1.0)
    stray = "[swarm] from scheduler to Agent-7 | task T-9\n\nT-9: not for Agent-4\nthird line"
    with display_env(server):
        server.xdotool("mousemove", "960", "540")
        driver = GuiDriver(home, KillSwitch(home), options, list(agents.values()))
        try:
            before = await driver.deliver(Parcel(1, agents["Agent-4"], "Agent-4's own", "t"))
            assert before.ok, before.reason
            four_windows.wait_at_prompt("Agent-4")  # idle at its prompt, as the test means
            caplog.set_level(logging.INFO, logger="automation.desktop.gui")
            wrong = await driver.deliver(Parcel(2, agents["Agent-7"], stray, "t"))
        finally:
            driver.close()
        # Agent-4's agent (or a person) sends what its input holds
        server.xdotool("windowfocus", "--sync", str(victim.window), "key", "Return")
    assert wrong.reason == "pasted into another agent's input" and not wrong.retryable
    got = four_windows.wait_for("Agent-4", 2, timeout=5)
    assert got == ["Agent-4's own", ""], got  # an empty input was sent, not Agent-7's prompt
    said = [r.getMessage() for r in caplog.records if "the paste landed in" in r.getMessage()]
    assert said == [
        "delivery 2 to Agent-7: the paste landed in Agent-4's input (the input point of "
        "Agent-7 is in Agent-4's window): cleared"
    ]
