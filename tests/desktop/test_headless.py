"""``swarm desktop up --headless`` and ``swarm attach`` (issue 39, item 3): the agents' tmux
sessions with no window and no display at all (no X server runs for these tests), real tmux,
the scripted agent CLI, and prompts delivered by the scheduler straight into the panes."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.launch import up as launch_up
from automation.routes import build_deliverer
from core.agents_file import load_agents
from core.clis.logs import log_path
from core.coordinator.scheduler import Scheduler
from core.service.swarm import SwarmService
from core.settings import Settings
from core.workspaces._procs import alive_of
from tests.conftest import skip_or_fail
from tests.desktop.rig import DesktopRig, own_args


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DesktopRig]:
    """Four terminal agents (two with a workspace folder), no display: this process too
    talks to the rig's tmux server (``TMUX_TMPDIR``), as a coordinator on that machine."""
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (apt-get install tmux)")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "TMUX_PANE"):
        monkeypatch.delenv(name, raising=False)
    made = DesktopRig(None, tmp_path / "rig")
    monkeypatch.setenv("TMUX_TMPDIR", made.env["TMUX_TMPDIR"])
    assert "DISPLAY" not in made.env
    yield made
    made.stop()  # its desktop down, with no display, ends the sessions as --headless does


def up(rig: DesktopRig, *args: str) -> dict[str, dict[str, object]]:
    done = rig.swarm("desktop", "up", "--headless", "--json", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return {row["agent"]: row for row in json.loads(done.stdout)}


@pytest.mark.timeout(180)
async def test_headless_up_starts_the_sessions_and_prompts_go_straight_into_them(
    rig: DesktopRig,
) -> None:
    rows = up(rig)
    assert {a: r["action"] for a, r in rows.items()} == dict.fromkeys(rig.names, "started")
    rig.wait_ready()
    agents = {a.id: a for a in load_agents(rig.config)}
    for name in rig.names:
        assert (agents[name].delivery, agents[name].tmux) == ("tmux", f"swarm-{name}:0")
        start = rig.starts(name)[0]
        assert start["cwd"] == str(rig.workspaces.get(name, rig.workdir))
    assert "# the team (a comment swarm desktop up keeps)" in rig.config.read_text()
    hooks = rig.workspaces["Agent-1"] / ".claude" / "settings.local.json"
    assert hooks.exists()  # swarm's hooks, before the CLI started
    # the command is claude: the agents file says cli = "claude-code" (its pane is read with
    # Claude Code's rules), and no Codex hook file goes into a Claude Code workspace
    assert {agents[name].cli for name in rig.names} == {"claude-code"}
    focus = rig.tmux("show-options", "-s", "focus-events").stdout.strip()
    assert focus == "focus-events on"  # Claude Code and Codex ask the terminal for them
    assert not (rig.workspaces["Agent-1"] / ".codex").exists()
    settings = Settings.from_env({"SWARM_HOME": str(rig.home), "SWARM_CONFIG": str(rig.config)})
    service = await SwarmService.open(settings)
    deliverer = build_deliverer(settings, list(service.agents.values()), service.kill_switch)
    try:
        for name in rig.names:
            await service.messages.send(name, f"hello {name}", "me")
        await Scheduler(service, deliverer).run_burst()
    finally:
        deliverer.close()
        await service.close()
    for name in rig.names:
        (got,) = rig.wait_for(name, 1)
        assert f"hello {name}" in got


@pytest.mark.timeout(180)
def test_headless_up_again_keeps_resumes_and_down_ends_the_sessions(rig: DesktopRig) -> None:
    up(rig)
    rig.wait_ready()
    again = up(rig)
    assert {r["action"] for r in again.values()} == {"kept"}
    assert rig.tmux("kill-session", "-t", "swarm-Agent-3").returncode == 0  # a reboot
    again = up(rig)
    assert again["Agent-3"]["action"] == "resumed" and again["Agent-1"]["action"] == "kept"
    rig.wait_ready(["Agent-3"], starts=2)
    resumed = rig.starts("Agent-3")[1]["argv"]
    assert own_args(resumed) == ["--continue"] and "--allowedTools" in resumed
    status = rig.swarm("desktop", "status", "--headless")
    assert status.returncode == 0 and status.stdout.count("running") == 4, status.stdout
    done = rig.swarm("desktop", "down", "--headless", "--agent", "agent-2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Agent-2: session swarm-Agent-2 ended"
    done = rig.swarm("desktop", "down", "--headless")
    assert done.returncode == 0, done.stderr
    assert rig.tmux("ls").returncode != 0  # every session ended
    again = up(rig, "--agents", "1")
    assert again["Agent-1"]["action"] == "started"  # afresh
    assert {r["action"] for a, r in again.items() if a != "Agent-1"} == {"parked"}


def test_headless_up_writes_swarms_mcp_server_for_each_agents_cli(rig: DesktopRig) -> None:
    """``mcp = true``: a Gemini CLI agent gets swarm's server in .gemini/settings.json, an
    opencode agent in opencode.json, each before its CLI starts, and nothing of the other
    CLIs' (the rig's scripted CLI under each name)."""
    for program in ("gemini", "opencode"):
        (rig.workdir / "bin" / program).symlink_to(rig.workdir / "bin" / "claude")
    text = rig.config.read_text(encoding="utf-8")
    for name, program in (("Agent-1", "gemini"), ("Agent-2", "opencode")):
        text = text.replace(f'id = "{name}"', f'id = "{name}"\nmcp = true')
        text += f'\n[desktop.agent.{name}]\ncommand = "{program}"\n'
    rig.config.write_text(text, encoding="utf-8")
    rig.env["GEMINI_DEBUG_LOG_FILE"] = str(
        rig.home / "elsewhere.log"
    )  # swarm's is set all the same
    up(rig, "--agents", "2")
    gemini, opencode = rig.workspaces["Agent-1"], rig.workspaces["Agent-2"]
    servers = json.loads((gemini / ".gemini" / "settings.json").read_text())["mcpServers"]
    assert servers["swarm"]["env"]["SWARM_AGENT"] == "Agent-1" and servers["swarm"]["trust"]
    local = json.loads((opencode / "opencode.json").read_text())["mcp"]["swarm"]
    assert local["type"] == "local" and local["command"][-3:] == ["-m", "bot.cli", "mcp"]
    assert local["environment"]["SWARM_AGENT"] == "Agent-2"
    assert sorted(p.name for p in gemini.iterdir()) == [".gemini"]
    assert sorted(p.name for p in opencode.iterdir()) == ["opencode.json"]
    home = rig.home  # each CLI's own needs in its environment
    assert pane_env(rig, "Agent-1")["GEMINI_DEBUG_LOG_FILE"] == str(log_path(home, "Agent-1"))
    assert log_path(home, "Agent-1").parent.is_dir()
    assert pane_env(rig, "Agent-2")["OPENCODE_DISABLE_MOUSE"] == "1"
    assert pane_env(rig, "Agent-2")["GEMINI_DEBUG_LOG_FILE"] == str(rig.home / "elsewhere.log")


def pane_env(rig: DesktopRig, agent: str) -> dict[str, str]:
    """The environment of the program in ``agent``'s session."""
    panes = rig.tmux("list-panes", "-s", "-t", f"=swarm-{agent}", "-F", "#{pane_pid}")
    environ = Path(f"/proc/{panes.stdout.split()[0]}/environ").read_bytes().split(b"\0")
    pairs = (entry.decode().split("=", 1) for entry in environ if b"=" in entry)
    return dict((name, value) for name, value in pairs)


def test_headless_up_of_fewer_agents_parks_the_rest(rig: DesktopRig) -> None:
    """Before: ``--headless --agents 2`` started two and left the other two served, with
    no session: the scheduler gave them tasks nobody could take."""
    rows = up(rig, "--agents", "2")
    assert {a: r["action"] for a, r in rows.items()} == {
        "Agent-1": "started", "Agent-2": "started", "Agent-3": "parked", "Agent-4": "parked",
    }  # fmt: skip
    assert [a.id for a in load_agents(rig.config)] == ["Agent-1", "Agent-2"]
    assert rig.config.read_text().count("[[parked]]") == 2
    text = rig.swarm("desktop", "up", "--headless", "--agents", "3")
    assert text.returncode == 0, text.stderr
    assert [a.id for a in load_agents(rig.config)] == ["Agent-1", "Agent-2", "Agent-3"]
    assert rig.config.read_text().count("[[parked]]") == 1  # Agent-4 still
    again = rig.swarm("desktop", "up", "--headless", "--agents", "1")
    assert "parked Agent-2, Agent-3: [[parked]] in the agents file" in again.stdout


@pytest.mark.timeout(120)
def test_headless_up_from_a_ci_shell_starts_the_agents_interactive(rig: DesktopRig) -> None:
    """Run where ``CI=true`` (a CI job, a container's defaults), the agents' sessions did
    inherit it, and Gemini CLI 0.61 then starts headless and exits: the real-Gemini GUI test
    failed so in every CI run. Their environment leaves out CI and GITHUB_ACTIONS."""
    rig.env.update(CI="true", GITHUB_ACTIONS="true", SWARM_TEST_MARK="kept")
    up(rig, "--agents", "1")
    rig.wait_ready(["Agent-1"])
    names = set(pane_env(rig, "Agent-1"))
    assert "SWARM_TEST_MARK" in names  # the rest of swarm's environment is passed on
    assert not names & {"CI", "GITHUB_ACTIONS"}


@pytest.mark.timeout(120)
def test_headless_down_ends_a_cli_that_outlives_its_pane(rig: DesktopRig) -> None:
    """Gemini CLI 0.61 ignores the SIGHUP its pane's end sends and keeps the child it
    relaunched itself in (both ran on, parent 1, after every test run): ``down`` ends what
    is left of each pane's processes."""
    child_pid = rig.workdir / "child.pid"
    (rig.workdir / "bin" / "claude").write_text(
        f"#!/bin/sh\ntrap '' HUP\nsleep 600 &\necho $! > {child_pid}\n"
        f'exec {sys.executable} -m tests.apps.agent_cli "$@"\n'
    )
    up(rig, "--agents", "1")
    rig.wait_ready(["Agent-1"])
    panes = rig.tmux("list-panes", "-s", "-t", "=swarm-Agent-1", "-F", "#{pane_pid}")
    procs = alive_of([int(panes.stdout.split()[0]), int(child_pid.read_text())])
    assert len(procs) == 2
    done = rig.swarm("desktop", "down", "--headless")
    assert done.returncode == 0, done.stderr
    assert [p.pid for p in procs if p.alive()] == []


def test_headless_up_of_one_node_starts_only_its_agents(rig: DesktopRig) -> None:
    text = rig.config.read_text(encoding="utf-8")
    for name, node in (("Agent-3", "desk-2"), ("Agent-4", "desk-2")):
        text = text.replace(f'id = "{name}"', f'id = "{name}"\nnode = "{node}"')
    rig.config.write_text(text, encoding="utf-8")
    rows = up(rig, "--node", "desk-2")
    assert sorted(rows) == ["Agent-3", "Agent-4"]
    assert rig.tmux("has-session", "-t", "=swarm-Agent-1").returncode != 0
    agents = {a.id: a for a in load_agents(rig.config)}
    assert agents["Agent-1"].delivery == "gui" and agents["Agent-3"].delivery == "tmux"
    bad = rig.swarm("desktop", "up", "--headless", "--node", "desk-9")
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr.strip().endswith(f"no agent has node = 'desk-9' in {rig.config}")
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.timeout(120)
def test_attach_shows_the_agents_session_in_this_terminal(rig: DesktopRig) -> None:
    up(rig, "--agents", "2")
    rig.wait_ready(["Agent-1", "Agent-2"])
    pid, fd = pty.fork()
    if pid == 0:  # the child: swarm attach in a terminal (a pty), no display
        os.chdir(rig.workdir)
        os.execve(sys.executable, [sys.executable, "-m", "bot.cli", "attach", "agent-2"],
                  {**rig.env, "TERM": "xterm"})  # fmt: skip
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while not clients(rig, "swarm-Agent-2"):
            assert time.monotonic() < deadline, seen
            if select.select([fd], [], [], 0.1)[0]:
                seen += os.read(fd, 65536)
        os.write(fd, b"\x02d")  # Ctrl+B, D: detach
        status = drain_until_exit(pid, fd)
        assert status == 0, seen
    finally:
        os.close(fd)
    assert rig.tmux("has-session", "-t", "=swarm-Agent-2").returncode == 0  # still running
    unknown = rig.swarm("attach", "Agent-9")
    assert unknown.returncode != 0 and f"unknown agent Agent-9 in {rig.config}" in unknown.stderr
    gone = rig.swarm("attach", "Agent-3")  # not started: parked by --agents 2
    assert "no tmux session swarm-Agent-3" in gone.stderr and gone.returncode != 0
    assert "it is parked" in gone.stderr


def drain_until_exit(pid: int, fd: int, timeout: float = 30.0) -> int:
    """The child's exit code, reading its terminal meanwhile (a full pty would block it)."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        assert time.monotonic() < deadline, "swarm attach did not end at the detach key"
        if select.select([fd], [], [], 0.1)[0]:
            with contextlib.suppress(OSError):
                os.read(fd, 65536)


def clients(rig: DesktopRig, session: str) -> list[str]:
    """The tmux clients attached to ``session``."""
    done = rig.tmux("list-clients", "-t", f"={session}", "-F", "#{client_name}")
    return done.stdout.split() if done.returncode == 0 else []


def test_headless_up_settles_claude_codes_first_start_offer(rig: DesktopRig) -> None:
    """Claude Code 2.1.328's "Try the new fullscreen renderer?" (a user's first start; before,
    read unknown, and the first task's delivery failed on it) is settled before it starts, as
    a user answering "Not now" once: its ``tui`` setting in the workspace's local settings,
    with --no-hooks too; a user's own choice there is left as it is."""
    mine = rig.workspaces["Agent-2"] / ".claude" / "settings.local.json"
    mine.parent.mkdir(parents=True)
    mine.write_text('{"tui": "fullscreen"}', encoding="utf-8")
    done = rig.swarm("desktop", "up", "--headless", "--no-hooks", "--agents", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    settled = rig.workspaces["Agent-1"] / ".claude" / "settings.local.json"
    assert json.loads(settled.read_text(encoding="utf-8")) == {"tui": "default"}
    assert json.loads(mine.read_text(encoding="utf-8")) == {"tui": "fullscreen"}
    said = [line.strip() for line in done.stdout.splitlines()]
    assert f'first start: {settled}: tui = "default" settles "Try the new fullscreen ' \
        'renderer?"' in said, done.stdout  # fmt: skip
    assert not any(str(mine) in line for line in said)


def _acp_agent(rig: DesktopRig) -> Path:
    """An ACP agent on the rig's PATH (swarm adds Gemini CLI's --acp when it hosts it)."""
    agent = rig.workdir / "bin" / "acp-agent"
    script = Path(__file__).parents[1] / "agents" / "hostile_acp.py"
    agent.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n', encoding="utf-8")
    agent.chmod(0o755)
    return agent


@pytest.mark.timeout(180)
def test_an_agent_moved_to_another_route_is_ended_on_the_old_one(rig: DesktopRig) -> None:
    """Issue 79, item 7: an agent that ran in a tmux session, now ``delivery = "protocol"``:
    ``desktop up`` ends that session as it starts the host (before: the old CLI ran on
    beside the new host, in the same worktree); moved back to ``"tmux"``, its host is ended.
    Each said under the agent."""
    agent = _acp_agent(rig)
    text = rig.config.read_text(encoding="utf-8").replace(
        'id = "Agent-2"\n', 'id = "Agent-2"\ncli = "gemini"\n'
    )
    rig.config.write_text(text + f'\n[desktop.agent.Agent-2]\ncommand = "{agent}"\n', "utf-8")
    assert up(rig, "--agents", "2")["Agent-2"]["delivery"] == "tmux"
    assert rig.tmux("has-session", "-t", "=swarm-Agent-2").returncode == 0
    _route(rig, "Agent-2", "protocol")  # a person moves it
    hosted = up(rig, "--agents", "2")["Agent-2"]
    assert hosted["delivery"] == "protocol", hosted
    assert rig.tmux("has-session", "-t", "=swarm-Agent-2").returncode != 0
    assert "session swarm-Agent-2 ended: its route changed" in str(hosted["notes"]), hosted
    _route(rig, "Agent-2", "tmux")  # and back
    typed = up(rig, "--agents", "2")["Agent-2"]
    assert typed["delivery"] == "tmux" and typed["action"] == "started", typed
    assert "protocol host ended: its route changed" in str(typed["notes"]), typed
    status = rig.swarm("desktop", "status", "--headless", "--json")
    row = next(r for r in json.loads(status.stdout) if r["agent"] == "Agent-2")
    assert "host" not in str(row), row


def _route(rig: DesktopRig, agent: str, delivery: str) -> None:
    """``delivery = ...`` of ``agent`` in the agents file, as a person edits it."""
    text = rig.config.read_text(encoding="utf-8")
    head, _, rest = text.partition(f'id = "{agent}"\n')
    lines = [line for line in rest.split("\n[", 1)[0].splitlines() if line.startswith("delivery")]
    body = rest.replace(lines[0] + "\n", "", 1) if lines else rest
    rig.config.write_text(f'{head}id = "{agent}"\ndelivery = "{delivery}"\n{body}', "utf-8")


@pytest.mark.timeout(180)
def test_headless_up_keeps_each_agents_own_route(rig: DesktopRig) -> None:
    """Issue 64, item 9: a mixed fleet on one machine. Agent-2 marked ``delivery =
    "protocol"`` (its CLI Gemini CLI's, over ACP) gets a host under ``--headless``, and
    keeps its key; the others get their tmux sessions (before: every agent was rewritten to
    ``delivery = "tmux"``)."""
    agent = rig.workdir / "bin" / "acp-agent"  # an ACP agent (swarm adds Gemini CLI's --acp)
    script = Path(__file__).parents[1] / "agents" / "hostile_acp.py"
    agent.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n', encoding="utf-8")
    agent.chmod(0o755)
    text = rig.config.read_text(encoding="utf-8").replace(
        'id = "Agent-2"\n', 'id = "Agent-2"\ndelivery = "protocol"\ncli = "gemini"\n'
    )
    text += f'\n[desktop.agent.Agent-2]\ncommand = "{agent}"\n'
    rig.config.write_text(text, encoding="utf-8")
    rows = up(rig)
    assert {a: r["delivery"] for a, r in rows.items()} == {
        "Agent-1": "tmux", "Agent-2": "protocol", "Agent-3": "tmux", "Agent-4": "tmux"
    }  # fmt: skip
    routes = {a.id: a.delivery for a in load_agents(rig.config)}
    assert routes["Agent-2"] == "protocol" and routes["Agent-1"] == "tmux"
    again = up(rig)  # run again: each kept on its route
    assert again["Agent-2"]["action"] == "kept" and again["Agent-2"]["delivery"] == "protocol"
    assert {a.id: a.delivery for a in load_agents(rig.config)} == routes


def test_up_waits_for_another_up_of_its_home_and_says_so(rig: DesktopRig) -> None:
    """Two ``up`` of one home run one at a time: while another holds the home (here the
    test, on its ``desktop`` folder) ``up`` starts nothing and says it waits; then it runs.
    Two typed at once both end well, one agent's session started once (before, the second
    often failed: "tmux could not start session swarm-Agent-1: duplicate session")."""
    (rig.home / "desktop").mkdir(exist_ok=True)
    holder = os.open(rig.home / "desktop", os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    up = headless_up(rig)
    try:
        assert up.stderr is not None
        assert up.stderr.readline() == f"swarm desktop: {launch_up.WAITING}\n"
        assert up.poll() is None and "Agent-1" not in sessions(rig)
        os.close(holder)
        out, err = up.communicate(timeout=120)
        assert up.returncode == 0, out + err
        assert {row["action"] for row in json.loads(out)} == {"started"}
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
    rig.swarm("desktop", "down", "--headless")
    twice = [headless_up(rig) for _ in range(2)]
    ran = [(p.communicate(timeout=120), p.returncode) for p in twice]
    assert [code for _, code in ran] == [0, 0], ran
    actions = sorted(
        row["action"] for (out, _), _ in ran for row in json.loads(out) if row["agent"] == "Agent-1"
    )
    assert actions == ["kept", "started"], ran


def test_a_ctrl_c_while_down_waits_for_another_up_ends_nothing_at_once(rig: DesktopRig) -> None:
    """``down`` waiting for another ``up`` or ``down`` of its home (the test holds its
    ``desktop`` folder): a Ctrl+C ends the wait at once, says nothing was ended, exit 130,
    the agent's session still up (before, the first Ctrl+C said "finishing" and ``down``
    waited on for the other, then ended what the person had just stopped it from ending)."""
    up(rig)
    holder = os.open(rig.home / "desktop", os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        down = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "desktop", "down", "--headless"],
            env=rig.env, cwd=rig.workdir, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        assert down.stderr is not None
        assert down.stderr.readline() == f"swarm desktop: {launch_up.WAITING}\n"
        down.send_signal(signal.SIGINT)
        try:
            out, err = down.communicate(timeout=30)
        finally:
            if down.poll() is None:
                down.kill()
                down.communicate()
    finally:
        os.close(holder)
    assert down.returncode == 130, out + err
    assert "nothing was ended" in err and out == "", out + err
    assert "Agent-1" in sessions(rig)


def sessions(rig: DesktopRig) -> str:
    """The names of the tmux sessions of the rig's home."""
    listed = rig.swarm("desktop", "status", "--headless", "--json")
    return " ".join(str(row.get("session")) for row in json.loads(listed.stdout or "[]"))


def headless_up(rig: DesktopRig) -> subprocess.Popen[str]:
    """``swarm desktop up --headless --json`` running, as a person typed it."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "desktop", "up", "--headless", "--json"],
        env=rig.env, cwd=rig.workdir, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
