"""The inbox fallback and the routing deliverer built by the factory."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from messages import make_texts, parcel

from automation.desktop.gui_options import GuiOptions
from automation.desktop.virtual_desktop import AgentWindows, XServer
from automation.inbox.files import InboxDeliverer, agent_folder
from automation.routes import build_deliverer
from core.agents_file import load_agents
from core.delivery._killswitch import KillSwitch
from core.models import Agent, Receipt
from core.protocols import ManualClock
from core.settings import Settings
from tests.automation.desktop_agents import agents_toml

ROOT = Path(__file__).resolve().parents[2]
AGENT = Agent(id="Agent-1", role="r")


def contents(folder: Path) -> list[str]:
    """The texts of an inbox folder, in file-name order."""
    return [path.read_bytes().decode("utf-8") for path in sorted(folder.iterdir())]


async def test_inbox_files_hold_the_exact_texts_in_order(tmp_path: Path) -> None:
    inbox = InboxDeliverer(tmp_path / "inbox")
    texts = make_texts(40, long_every=9)
    for n, text in enumerate(texts):
        assert await inbox.deliver(parcel(n, AGENT, text)) == Receipt(True, None, "inbox", False)
    folder = tmp_path / "inbox" / "Agent-1"
    assert contents(folder) == texts
    names = sorted(p.name for p in folder.iterdir())
    assert all(f"-d{n:09d}-" in name for n, name in enumerate(names))


async def test_the_inbox_never_overwrites_even_at_the_same_instant(tmp_path: Path) -> None:
    inbox = InboxDeliverer(tmp_path, clock=ManualClock())
    same_id = [parcel(7, AGENT, f"retry {n} of delivery 7") for n in range(60)]
    others = [parcel(n, AGENT, f"delivery {n} ✓") for n in range(60)]
    receipts = await asyncio.gather(*(inbox.deliver(p) for p in same_id + others))
    assert all(r.ok for r in receipts)
    files = list((tmp_path / "Agent-1").iterdir())
    assert len(files) == 120
    assert not [f for f in files if f.name.startswith(".")]  # no temporary files left
    assert sorted(contents(tmp_path / "Agent-1")) == sorted(p.text for p in same_id + others)


def test_agent_ids_become_safe_folder_names(tmp_path: Path) -> None:
    assert agent_folder(tmp_path, "Agent-1") == tmp_path / "Agent-1"
    assert agent_folder(tmp_path, "../evil").parent == tmp_path
    assert agent_folder(tmp_path, "a/b c").name == "a_b_c"


async def test_a_failed_inbox_write_is_a_retryable_receipt(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    receipt = await InboxDeliverer(blocker).deliver(parcel(1, AGENT, "text"))
    assert (receipt.ok, receipt.method, receipt.retryable) == (False, "inbox", True)


async def test_without_a_display_everything_goes_to_the_inbox(
    tmp_path: Path,
    agents: list[Agent],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    settings = Settings(home=tmp_path / "home", config_path=tmp_path / "agents.toml")
    with caplog.at_level(logging.INFO):
        deliverer = build_deliverer(settings, agents, KillSwitch(settings.home))
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1
    assert "no display (DISPLAY is not set)" in lines[0]
    assert f"all 8 agents get their messages as files in {settings.inbox_dir}" in lines[0]
    texts = make_texts(8)
    receipts = [
        await deliverer.deliver(parcel(n, a, t))
        for n, (a, t) in enumerate(zip(agents, texts, strict=True))
    ]
    assert {(r.ok, r.method) for r in receipts} == {(True, "inbox")}
    for agent, text in zip(agents, texts, strict=True):
        assert contents(settings.inbox_dir / agent.id) == [text]
    deliverer.close()


async def test_inbox_agents_use_files_and_the_others_the_screen(
    xserver: XServer, windows: AgentWindows, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.toml"
    extra = '\n[[agent]]\nid = "Agent-9"\nrole = "files"\ndelivery = "inbox"\n'
    path.write_text(agents_toml(extra=extra), encoding="utf-8")
    agents = load_agents(path)
    settings = Settings(home=tmp_path / "home", config_path=path)
    options = GuiOptions(human_idle_s=0.05)
    deliverer = build_deliverer(settings, agents, KillSwitch(settings.home), options)
    try:
        assert [deliverer.method_for(a) for a in agents] == ["gui"] * 8 + ["inbox"]
        by_screen = await deliverer.deliver(parcel(1, agents[0], "by screen"))
        by_file = await deliverer.deliver(parcel(2, agents[8], "by file"))
    finally:
        deliverer.close()
    assert (by_screen.ok, by_screen.method, by_file.ok, by_file.method) == (
        True,
        "gui",
        True,
        "inbox",
    )
    assert windows.wait_for(0, 1) == ["by screen"]
    assert contents(settings.inbox_dir / "Agent-9") == ["by file"]


DRIVER_WITHOUT_DISPLAY = """
import asyncio, sys
from pathlib import Path
from automation.desktop.gui import GuiDriver
from core.delivery.killswitch import KillSwitch
from core.models import Agent
from core.protocols import Parcel

home = Path(sys.argv[1])
driver = GuiDriver(home, KillSwitch(home))
agent = Agent(id="Agent-1", role="r", input=(240, 480))
receipt = asyncio.run(driver.deliver(Parcel(1, agent, "hello", "test")))
driver.close()
print(receipt.reason, receipt.method, receipt.retryable)
"""


@pytest.mark.parametrize("display", [None, ":759"])
def test_the_gui_driver_without_a_display_says_so(tmp_path: Path, display: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    if display:
        env["DISPLAY"] = display
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", DRIVER_WITHOUT_DISPLAY, str(tmp_path)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["no", "display", "gui", "True"]
    assert "PyAutoGUI cannot use the display" in done.stderr
    assert "ResourceWarning" not in done.stderr


def test_gui_options_from_the_environment() -> None:
    from automation.desktop.gui_options import GuiOptions
    from core.errors import ConfigError

    options = GuiOptions.from_env({"SWARM_HUMAN_IDLE": "0.5", "SWARM_FOCUS_TIMEOUT": "0.25"})
    assert options.human_idle_s == 0.5 and options.focus_timeout_s == 0.25
    assert options.time_limit_s == options.lock_timeout_s + 2 * 10.0 + options.steps_s
    assert GuiOptions.from_env({}) == GuiOptions()
    with pytest.raises(ConfigError, match="SWARM_PASTE_TIMEOUT"):
        GuiOptions.from_env({"SWARM_PASTE_TIMEOUT": "soon"})
