"""Issue 67: a sandboxed agent's hooks reach swarm through its door. ``desktop up`` writes
Agent-1's hooks as its door's ``swarm hook``; run in its bubblewrap sandbox (its tmux pane),
a ``PreToolUse`` is recorded as Agent-1's, a ``Stop`` in Agent-2's name is refused and
recorded as refused, and a ``PermissionRequest`` waits for a person's decision (``swarm
approve`` outside) and prints Claude Code's answer inside; the door's ``swarm hook`` run
outside Agent-1's terminal is refused (exit 0: a hook never fails its agent). With a
coordinator's hook socket, the hook the door runs is placed and recorded there."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.history.events import EventFilter
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig

SCRIPT = """\
cmd=$(cat hook-command.txt)
{{ eval "$cmd" < pre.json; echo "pre=$?"; }} > pre.out 2>&1
{{ /run/swarm/swarm hook --agent Agent-2 < stop.json; echo "other=$?"; }} > other.out 2>&1
touch two.done
while [ ! -e go ]; do sleep 0.1; done
eval "$cmd" < ask.json > answer.part 2> ask.err; mv answer.part answer.json
"""


@pytest.fixture
def box(tmp_path: Path) -> Iterator[SandboxRig]:
    for tool in ("tmux", "bwrap", "git"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed")
    rig = SandboxRig(tmp_path, sandbox=True)
    rig.env["SWARM_APPROVAL_WAIT"] = "60"
    yield rig
    rig.swarm("desktop", "down", "--headless")
    rig.tmux("kill-server")


def _event(rig: SandboxRig, agent: str, name: str, **fields: object) -> str:
    cwd = str(rig.ws[agent])
    return json.dumps({"session_id": "s1", "cwd": cwd, "hook_event_name": name, **fields})


def _wait_for(path: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"nothing written to {path}"
        time.sleep(0.1)
    return path.read_text()


def _explain(rig: SandboxRig, agent: str) -> dict[str, Any]:
    done = rig.swarm("agents", "explain", agent, "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _open_prompt(rig: SandboxRig, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = json.loads(rig.swarm("inbox", "--json").stdout or "[]")
        refs = [str(i.get("ref")) for i in items if str(i.get("ref", "")).startswith("R-")]
        if refs:
            return refs[0]
        time.sleep(0.3)
    raise AssertionError("no prompt opened for the PermissionRequest")


@pytest.mark.timeout(180)
def test_a_sandboxed_agents_hooks_reach_swarm_through_its_door(box: SandboxRig) -> None:
    assert box.swarm("task", "add", "probe").returncode == 0  # the database made
    up = box.swarm("desktop", "up", "--headless", "--json", "--agents", "2")
    assert up.returncode == 0, up.stdout + up.stderr
    work = box.ws["Agent-1"]
    settings = json.loads((work / ".claude" / "settings.local.json").read_text())
    command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    assert command.startswith("/run/swarm/swarm hook --agent Agent-1"), command
    (work / "hook-command.txt").write_text(command)
    (work / "pre.json").write_text(_event(box, "Agent-1", "PreToolUse", tool_name="Bash"))
    (work / "stop.json").write_text(_event(box, "Agent-2", "Stop"))
    asked = {"command": "touch approved.txt"}
    ask = _event(box, "Agent-1", "PermissionRequest", tool_name="Bash", tool_input=asked)
    (work / "ask.json").write_text(ask)
    (work / "hooks.sh").write_text(SCRIPT.format())
    assert box.tmux("send-keys", "-t", "swarm-Agent-1", "sh hooks.sh", "Enter").returncode == 0

    _wait_for(work / "two.done")
    assert "pre=0" in (work / "pre.out").read_text(), (work / "pre.out").read_text()
    assert "other=0" in (work / "other.out").read_text()  # a hook never fails its agent
    mine = _explain(box, "Agent-1")
    assert mine["state"] == "working", mine
    assert "hook: PreToolUse Bash" in json.dumps(mine), mine
    assert "hook:" not in json.dumps(_explain(box, "Agent-2"))  # its name was refused
    refused = box.swarm("events", "--kind", "access.refused", "--json")
    assert "Stop in Agent-2's name refused" in refused.stdout, refused.stdout + refused.stderr
    assert "door pid" in refused.stdout, refused.stdout  # placed by its door, not its word

    (work / "go").touch()
    ref = _open_prompt(box)
    assert "waiting" in _explain(box, "Agent-1")["state"]
    decided = box.swarm("approve", ref)  # a person, outside every agent's terminal
    assert decided.returncode == 0, decided.stdout + decided.stderr
    answer = json.loads(_wait_for(work / "answer.json"))
    decision = answer["hookSpecificOutput"]["decision"]
    assert decision == {"behavior": "allow"}, answer
    assert "answered 'Yes'" in json.dumps(_explain(box, "Agent-1"))
    door_swarm = str(box.home / "doors" / "Agent-1" / "swarm")  # from no agent's terminal
    stop = box.run_input([door_swarm, "hook", "--agent", "Agent-1"], _event(box, "Agent-1", "Stop"))
    assert stop.returncode == 0 and "not Agent-1's terminal" in stop.stderr, stop
    assert _explain(box, "Agent-1")["state"] == "working"  # its Stop was not taken


@pytest.mark.timeout(180)
async def test_with_a_coordinator_its_hooks_go_to_the_hook_socket(box: SandboxRig) -> None:
    """A coordinator's hook socket (``bot.hook_server``) takes the hook the door runs: the
    door is Agent-1's root, so the socket places the event as Agent-1's and refuses one in
    Agent-2's name."""
    from bot.config import Config
    from bot.hook_server import HookServer
    from core.service.swarm import SwarmService
    from core.settings import Settings

    assert (await asyncio.to_thread(box.swarm, "task", "add", "probe")).returncode == 0
    up = await asyncio.to_thread(box.swarm, "desktop", "up", "--headless", "--agents", "2")
    assert up.returncode == 0, up.stdout + up.stderr
    env = {k: box.env[k] for k in ("SWARM_HOME", "SWARM_CONFIG", "TMUX_TMPDIR")}  # its panes
    service = await SwarmService.open(Settings.from_env(env))
    server = HookServer(service, Config(env))
    assert await server.start()
    try:
        work = box.ws["Agent-1"]
        (work / "pre.json").write_text(_event(box, "Agent-1", "PreToolUse", tool_name="Edit"))
        (work / "stop.json").write_text(_event(box, "Agent-2", "Stop"))
        hook = "/run/swarm/swarm hook --agent"
        line = f"{hook} Agent-1 < pre.json; {hook} Agent-2 < stop.json; touch relayed.done"
        assert box.tmux("send-keys", "-t", "swarm-Agent-1", line, "Enter").returncode == 0
        deadline = time.monotonic() + 60
        while not (work / "relayed.done").exists():
            assert time.monotonic() < deadline, "the hooks never ended"
            await asyncio.sleep(0.1)
        await server.written()
        assert server.recorded == 1  # Agent-1's, through the socket (no database path)
        shown = await service.explain_agent("Agent-1")
        assert shown["state"] == "working" and "PreToolUse Edit" in json.dumps(shown), shown
        refused = await service.history.find(EventFilter(kinds=("access.refused",)))
        assert any("Stop in Agent-2's name refused" in e.text for e in refused), refused
    finally:
        await server.close()
        await service.close()
