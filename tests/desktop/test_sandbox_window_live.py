"""``sandbox = true`` on the window route: ``swarm desktop up`` (no ``--headless``) on the
shared Xvfb opens a real xterm attached to the agent's tmux session, whose command is
wrapped in bubblewrap. The probe is typed into that window by swarm's own desktop
deliverer (the real GUI driver, at the input point ``desktop up`` wrote): it cannot read
swarm's database, the user's SSH key or another agent's worktree, cannot write outside its
worktree or signal swarm's processes, and it reports through its door as its agent. One
``desktop up`` for the module."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.desktop.gui import GuiDriver, GuiOptions
from automation.desktop.virtual_desktop import XServer, display_env
from automation.launch.sandbox import door_pid
from core.agents_file import load_agents
from core.delivery._killswitch import KillSwitch
from core.protocols import Parcel
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig, assign

SESSION = "swarm-Agent-1"


@pytest.fixture(scope="module")
def window(shared_xvfb: XServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxRig]:
    """Agent-1 sandboxed, its xterm window open on the shared Xvfb."""
    missing = [t for t in ("tmux", "bwrap", "git", "xterm") if shutil.which(t) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed")
    rig = SandboxRig(tmp_path_factory.mktemp("sbwindow"), sandbox=True)
    rig.env.update(shared_xvfb.env)
    up = rig.swarm("desktop", "up", "--json", "--no-hooks", "--agents", "1")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield rig
    finally:
        rig.swarm("desktop", "down")
        rig.tmux("kill-server")


def _process(pid: int) -> tuple[str, int]:
    """A process's name and its parent's pid (from /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
    return name, int(rest.split()[1])


def _pid(rig: SandboxRig, *args: str) -> int:
    done = rig.tmux(*args)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[0])


def test_the_window_shows_the_sandboxed_session(window: SandboxRig) -> None:
    """The pane's process is bwrap; the tmux client showing it is the xterm window's child."""
    pane = _pid(window, "display-message", "-p", "-t", SESSION, "#{pane_pid}")
    names = [_process(pane)[0], *(_process(c)[0] for c in _children(pane))]
    assert "bwrap" in names, names
    client = _pid(window, "list-clients", "-t", SESSION, "-F", "#{client_pid}")
    assert _process(_process(client)[1])[0] == "xterm"


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


@pytest.mark.timeout(180)
async def test_a_probe_typed_into_the_window_is_fenced_and_reports_through_its_door(
    window: SandboxRig, shared_xvfb: XServer
) -> None:
    await assign(window)  # after up: a new session hands back what its agent held
    door = door_pid(window.home, "Agent-1")
    assert door is not None  # one of swarm's processes, outside the sandbox
    script, out = window.write_probe(), window.ws["Agent-1"] / "probe.out"
    agent = {a.id: a for a in load_agents(window.config)}["Agent-1"]
    assert agent.input is not None  # desktop up wrote the window's input point
    assert agent.tmux_socket == window.socket  # and its pane's server: the home's own
    # its command is a bare shell, no CLI whose input a pane shows: the screen confirms
    agent = dataclasses.replace(agent, tmux=None, tmux_socket=None)
    driver = GuiDriver(window.home, KillSwitch(window.home), GuiOptions(human_idle_s=0.05))
    try:
        with display_env(shared_xvfb):
            shared_xvfb.xdotool("mousemove", "960", "1000")  # off the window, as a person's
            receipt = await driver.deliver(Parcel(1, agent, f"sh {script} {out} {door}", "test"))
    finally:
        driver.close()
    assert receipt.ok, receipt.reason
    got = window.read(out)
    assert got["db"] == "hidden" and got["ssh"] == "hidden", got
    assert "secret.txt" not in got["other"], got
    assert not (window.root / "outside").exists()
    assert not (window.user / "left-in-home").exists()
    assert got["usr"] == "refused" and got["kill"] == "unseen", got
    assert "rc 0" in got["start"] and "rc 0" in got["done"], got
    log = window.swarm("task", "show", "T-1").stdout
    assert "status:      done" in log and "note:        inside" in log, log
    assert "T-1 started by Agent-1" in log and "T-1 done by Agent-1: inside" in log, log
