"""A desktop agent's terminal window is its own (issue 54, item 1): once a prompt was delivered
into it, a process in that window (a hook, ``swarm approve``) is placed as that agent by its
parents up to the window's process (``_NET_WM_PID``), whatever name it gives.

Two real xterms on Xvfb, each running a terminal chat program as an agent CLI would, swarm's
real desktop driver delivering into them, a real coordinator socket over SQLite. A command
runs in Agent-1's window beside its chat program (a child of it, as an agent's shell tool
and hooks are). Before, nothing placed a window's processes: a ``Stop`` in Agent-2's name
from Agent-1's window was recorded as Agent-2's."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automation.desktop.gui import GuiDriver, GuiOptions
from automation.desktop.virtual_desktop import display_env
from bot.config import Config
from bot.hook_server import HookServer
from core.agents import _identity as identity
from core.delivery._killswitch import KillSwitch
from core.history.events import EventFilter
from core.protocols import Parcel
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.apps.desktop import MixedDesktop, missing_reason
from tests.conftest import skip_or_fail
from tests.helpers import ROOT

pytestmark = pytest.mark.timeout(180)


@dataclass
class Windows:
    """Agent-1 and Agent-2 in xterms; a command file Agent-1's window runs when it appears."""

    desktop: MixedDesktop
    service: SwarmService
    server: HookServer
    driver: GuiDriver
    env: dict[str, str]
    folder: Path

    async def run_in_agent_1(self, command: str, name: str) -> tuple[int, str]:
        """``command`` run in Agent-1's window (its environment: the swarm's settings, no
        SWARM_AGENT): its exit status and stderr. The coordinator's socket is served meanwhile,
        as a running coordinator's is (a hook relays to it)."""
        given = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        out = self.folder / name
        line = f"cd {shlex.quote(str(ROOT))}; env -u SWARM_AGENT {given} {command} 2>{out}.err"
        script = self.folder / "run.sh"
        started = Path(f"{out}.started")
        script.with_suffix(".tmp").write_text(
            f": >{started}; {line}; echo $? >{out}.rc\n", encoding="utf-8"
        )
        script.with_suffix(".tmp").rename(script)  # the window's loop takes it, then runs it
        # two signals, not one clock: the window's loop took the command (its shell polls
        # every 0.05 s), then the command ended; the second waits as long as the test may
        # (a hook's Python start under CI's load took over a minute once)
        deadline = time.monotonic() + 60
        while not _exists(started):
            assert time.monotonic() < deadline, "the window's loop never took the command"
            await asyncio.sleep(0.05)
        while (done := _finished(out)) is None:  # noqa: ASYNC110 (another process's file)
            await asyncio.sleep(0.05)
        return done

    async def hook(self, named: str, event: str) -> tuple[int, str]:
        """The installed hook run in Agent-1's window with ``--agent named``."""
        payload = self.folder / f"{event}-{named}.json"
        body = {"session_id": "s", "cwd": "/", "hook_event_name": event}
        payload.write_text(json.dumps(body), encoding="utf-8")
        hook = f"{shlex.quote(sys.executable)} -m bot.cli.hook --agent {named}"
        return await self.run_in_agent_1(f"{hook} <{shlex.quote(str(payload))}", f"{event}-{named}")

    async def deliver(self, agent: str, text: str) -> None:
        """A prompt typed into ``agent``'s window by the desktop driver, confirmed."""
        with display_env(self.desktop.xserver):
            receipt = await self.driver.deliver(Parcel(1, self.service.agents[agent], text, "t"))
        assert receipt.ok, receipt.reason
        self.desktop.wait_at_prompt(agent)


def _exists(path: Path) -> bool:
    return path.exists()


def _finished(out: Path) -> tuple[int, str] | None:
    """The exit status and stderr of a window's command once it wrote its status, else None."""
    rc = Path(f"{out}.rc")
    if not (rc.exists() and rc.read_text().strip()):
        return None
    return int(rc.read_text()), Path(f"{out}.err").read_text()


@pytest.fixture
async def windows(shared_xvfb: Any, tmp_path: Path) -> AsyncIterator[Windows]:
    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"swarm-wi-{os.getpid()}-{time.time_ns()}"
    home.mkdir()
    script = tmp_path / "run.sh"
    # the loop renames a command before it runs it: a next command written as soon as this
    # one's status is (before the loop's turn comes round) is never removed unrun
    taken = tmp_path / "taken.sh"
    loop = f"while :; do if mv {script} {taken} 2>/dev/null; then sh {taken}; fi; sleep 0.05; done"
    desktop = MixedDesktop(["xterm", "xterm"], tmp_path / "desk", server=shared_xvfb,
                           beside={"Agent-1": loop}).start()  # fmt: skip
    config = tmp_path / "agents.toml"
    config.write_text(desktop.agents_toml(), encoding="utf-8")
    env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    service = await SwarmService.open(Settings.from_env(env))
    server = HookServer(service, Config(env))
    options = GuiOptions(human_idle_s=0.05, human_wait_s=5.0)
    driver = GuiDriver(home, KillSwitch(home), options, list(service.agents.values()))
    try:
        assert await server.start()
        desktop.xserver.xdotool("mousemove", "960", "540")
        yield Windows(desktop, service, server, driver, env, tmp_path)
    finally:
        driver.close()
        await server.close()
        await service.close()
        desktop.stop()
        shutil.rmtree(home)


async def refusals(service: SwarmService) -> list[str]:
    found = await service.history.find(EventFilter(kinds=("access.refused",)))
    return [e.text for e in found]


async def state(service: SwarmService, agent: str) -> str:
    return str((await service.explain_agent(agent))["state"])


async def test_a_hook_in_an_agents_window_is_that_agents_once_a_prompt_went_in(
    windows: Windows,
) -> None:
    service = windows.service
    await windows.deliver("Agent-1", "first prompt")
    await windows.deliver("Agent-2", "first prompt")
    recorded = identity.window_path(service.settings.home, "Agent-1").read_text().split()[0]
    assert int(recorded) == windows.desktop.pid("Agent-1")  # the xterm, Agent-1's window

    code, err = await windows.hook("Agent-2", "Stop")  # a Stop in Agent-2's name, from Agent-1's
    assert code == 0, err
    await windows.server.written()
    assert await state(service, "Agent-2") == "unknown"
    refused = await refusals(service)
    assert refused and all("Stop in Agent-2's name refused: it runs" in r for r in refused)
    assert any(f"in Agent-1's terminal (window process {recorded}" in r for r in refused)

    code, err = await windows.hook("Agent-1", "Stop")  # its own: recorded as Agent-1's
    assert code == 0, err
    await windows.server.written()
    assert await state(service, "Agent-1") == "idle"

    approve = f"{shlex.quote(sys.executable)} -m bot.cli.main approve H-1"
    code, err = await windows.run_in_agent_1(approve, "approve")
    assert code == 2 and "a person's to decide" in err and "Agent-1's (window process" in err, err


async def test_a_process_recorded_for_two_agents_or_ended_places_no_one(
    windows: Windows,
) -> None:
    """A process recorded for two agents (one terminal server for both) is neither's; and a
    recorded process that ended is nobody's root (a later process with its pid is not)."""
    home = windows.service.settings.home
    agents = windows.service.agents
    identity.record_window(home, "Agent-1", os.getpid())
    assert [r.agent for r in identity.window_roots(agents, home)] == ["Agent-1"]
    identity.record_window(home, "Agent-2", os.getpid())
    assert identity.window_roots(agents, home) == []
    identity.window_path(home, "Agent-2").write_text(f"{os.getpid()} 1\n", encoding="utf-8")
    assert [r.agent for r in identity.window_roots(agents, home)] == ["Agent-1"]
