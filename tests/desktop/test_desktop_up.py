"""``swarm desktop up / status / down`` on the shared Xvfb (no window manager; openbox in a
child process): real xterm, real tmux, the scripted agent CLI and the real desktop driver."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.desktop.gui import GuiDriver, GuiOptions
from automation.desktop.virtual_desktop import XServer, display_env
from core.agents_file import load_agents
from core.delivery._killswitch import KillSwitch
from core.models import Agent, Receipt
from core.protocols import Parcel
from tests.apps import launchers
from tests.automation.messages import make_texts
from tests.conftest import skip_or_fail
from tests.desktop.rig import DesktopRig, own_args
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
CELL_W, CELL_H = 480, 540


@pytest.fixture
def rig(shared_xvfb: XServer, tmp_path: Path) -> Iterator[DesktopRig]:
    """Four terminal agents (two with a workspace folder) on the shared Xvfb."""
    missing = [p for p in ("xterm", "tmux", "xwininfo") if shutil.which(p) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed (apt-get install xterm tmux x11-utils)")
    made = DesktopRig(shared_xvfb, tmp_path / "rig")
    yield made
    made.stop()


@pytest.fixture
def deliver(rig: DesktopRig, home: Path) -> Iterator[object]:
    """Deliver one text to an agent through the real driver, reading the agents file anew."""
    drivers: list[GuiDriver] = []
    count = iter(range(1, 10_000))

    async def send(agent_id: str, text: str) -> None:
        agent = {a.id: a for a in load_agents(rig.config)}[agent_id]
        if not drivers:
            drivers.append(GuiDriver(home, KillSwitch(home), GuiOptions(human_idle_s=0.05)))
        receipt = await drivers[0].deliver(Parcel(next(count), agent, text, "test"))
        assert receipt.ok, receipt.reason

    with display_env(rig.server):
        rig.server.xdotool("mousemove", "960", "1000")
        yield send
    for driver in drivers:
        driver.close()


def cell_of(index: int) -> tuple[int, int, int, int]:
    """Cell ``index`` of the 4x2 grid on the 1920x1080 screen."""
    return (index % 4) * CELL_W, (index // 4) * CELL_H, CELL_W, CELL_H


def outer_box(server: XServer, window: int) -> tuple[int, int, int, int]:
    """The window's area with its X border (what it covers on screen; xwininfo's upper-left
    corner is the border's)."""
    done = subprocess.run(
        ["xwininfo", "-id", str(window)],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    fields = dict(line.strip().split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    x, y = int(fields["Absolute upper-left X"]), int(fields["Absolute upper-left Y"])
    width, height, border = (int(fields[k]) for k in ("Width", "Height", "Border width"))
    return x, y, width + 2 * border, height + 2 * border


def inside(box: tuple[int, int, int, int], cell: tuple[int, int, int, int]) -> bool:
    """True when ``box`` lies wholly in ``cell``."""
    x, y, w, h = box
    cx, cy, cw, ch = cell
    return cx <= x and cy <= y and x + w <= cx + cw and y + h <= cy + ch


def swarm_windows(server: XServer) -> list[int]:
    """Windows carrying swarm's mark (whatever the home)."""
    found = []
    for window in launchers.find_all(server, "(swarm)"):
        done = subprocess.run(
            ["xprop", "-id", str(window), "_SWARM_AGENT"],
            env=server.env,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if "not found" not in done.stdout and "=" in done.stdout:
            found.append(window)
    return found


def wm_pid(server: XServer, window: int) -> int:
    """The window's _NET_WM_PID (the terminal's process)."""
    done = subprocess.run(
        ["xprop", "-id", str(window), "_NET_WM_PID"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return int(done.stdout.split("=")[1])


def kill_window(rig: DesktopRig, agent: str) -> None:
    """Kill the terminal of ``agent`` (as a crash would); wait until its window is gone."""
    row = next(r for r in rig.status() if r["agent"] == agent)
    os.kill(wm_pid(rig.server, row["window"]), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while row["window"] in swarm_windows(rig.server):
        assert time.monotonic() < deadline, "the killed terminal's window stayed"
        time.sleep(0.05)


@pytest.mark.timeout(300)
async def test_up_opens_four_agents_in_their_cells_and_40_prompts_arrive_exactly(
    rig: DesktopRig, deliver
) -> None:
    rows = rig.up()
    assert [r["action"] for r in rows] == ["started"] * 4
    rig.wait_ready()
    for index, row in enumerate(rows):
        assert inside(outer_box(rig.server, row["window"]), cell_of(index)), row
        assert row["tmux"] == f"swarm-{row['agent']}:0"
        shown = rig.tmux("show-options", "-t", row["tmux"], "status").stdout
        assert shown.strip() == "status off"  # no clock in the watch region
    agents: dict[str, Agent] = {a.id: a for a in load_agents(rig.config)}
    assert all(a.app == "terminal" and a.input and a.watch for a in agents.values())
    text = rig.config.read_text(encoding="utf-8")
    assert "# the team (a comment swarm desktop up keeps)" in text and "# keep me" in text
    for name in rig.names:  # in its workspace (or the folder swarm desktop up ran in)
        (start,) = rig.starts(name)
        folder = rig.workspaces.get(name, rig.workdir)
        assert (start["cwd"], start["agent"], start["home"]) == (str(folder), name, str(rig.home))
        assert own_args(start["argv"]) == [] and "--allowedTools" in start["argv"]
    texts = make_texts(40, long_every=9)
    for n, message in enumerate(texts):  # no calibration step: the file as up wrote it
        await deliver(rig.names[n % 4], message)
    for i, name in enumerate(rig.names):
        assert rig.wait_for(name, 10) == texts[i::4]


@pytest.mark.timeout(300)
async def test_a_killed_terminal_is_reattached_and_a_killed_session_resumed(
    rig: DesktopRig, deliver
) -> None:
    rig.up()
    rig.wait_ready()
    await deliver("Agent-2", "before the crash")
    assert rig.wait_for("Agent-2", 1) == ["before the crash"]
    kill_window(rig, "Agent-2")
    rows = {r["agent"]: r["action"] for r in rig.up()}
    assert rows == {
        "Agent-1": "kept",
        "Agent-2": "reattached",
        "Agent-3": "kept",
        "Agent-4": "kept",
    }
    assert len(swarm_windows(rig.server)) == 4
    await deliver("Agent-2", "after the crash")
    assert rig.wait_for("Agent-2", 2) == ["before the crash", "after the crash"]
    assert len(rig.starts("Agent-2")) == 1  # the same program: its conversation intact

    kill_window(rig, "Agent-3")  # a reboot: the window and the session are gone
    assert rig.tmux("kill-session", "-t", "swarm-Agent-3").returncode == 0
    rows = {r["agent"]: r["action"] for r in rig.up()}
    assert rows["Agent-3"] == "resumed" and rows["Agent-1"] == "kept"
    rig.wait_ready(["Agent-3"], starts=2)
    first, second = rig.starts("Agent-3")
    assert own_args(first["argv"]) == [] and own_args(second["argv"]) == ["--continue"]
    assert second["cwd"] == str(rig.workdir)
    await deliver("Agent-3", "after the reboot")
    assert rig.wait_for("Agent-3", 1) == ["after the reboot"]


@pytest.mark.timeout(240)
def test_up_twice_opens_nothing_twice_and_down_leaves_the_users_window(
    rig: DesktopRig, tmp_path: Path
) -> None:
    first = rig.up()
    second = rig.up()
    assert [r["action"] for r in second] == ["kept"] * 4
    assert [r["window"] for r in second] == [r["window"] for r in first]
    said = rig.swarm("desktop", "up")  # two agents with a workspace: Claude Code's file each
    assert said.returncode == 0, said.stdout + said.stderr
    assert said.stdout.count("already installed") == 1, said.stdout  # once per run
    assert "hooks: already installed (2 files in the workspaces of Agent-" in said.stdout
    assert len(swarm_windows(rig.server)) == 4
    user = launchers.launch_xterm(
        rig.server, "user (swarm)", (0, 0, 480, 540), tmp_path / "user.jsonl", tmp_path
    )
    try:
        launchers.wait_for_window(rig.server, "user \\(swarm\\)", 30, user.log)
        status = rig.swarm("desktop", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("running") == 4
        done = rig.swarm("desktop", "down", "--agent", "agent-1")  # case as typed
        assert done.returncode == 0 and "Agent-1: window closed" in done.stdout, done.stderr
        assert len(swarm_windows(rig.server)) == 3
        done = rig.swarm("desktop", "down")
        assert done.returncode == 0, done.stderr
        assert swarm_windows(rig.server) == []
        assert rig.tmux("ls").returncode != 0  # every session ended
        assert user.process.poll() is None
        assert launchers.find_window(rig.server, "user \\(swarm\\)") is not None
        status = rig.swarm("desktop", "status", "--json")
        assert status.returncode == 1
        assert all(r["window"] is None and not r["alive"] for r in json.loads(status.stdout))
    finally:
        user.stop()


def test_up_with_fewer_agents_parks_the_rest_and_a_larger_n_brings_them_back(
    rig: DesktopRig,
) -> None:
    """Issue 41, item 4: after ``up --agents 2`` the two agents not opened keep no
    coordinates inside the others' windows: they are ``[[parked]]`` (not served), their
    windows closed, their sessions kept; ``up --agents 3`` brings the third back."""
    rig.up()
    assert len(swarm_windows(rig.server)) == 4
    rows = rig.up("--agents", "2", "--layout", "2x1")
    assert [(r["agent"], r["action"]) for r in rows] == [
        ("Agent-1", "kept"), ("Agent-2", "kept"), ("Agent-3", "parked"), ("Agent-4", "parked")
    ]  # fmt: skip
    assert [a.id for a in load_agents(rig.config)] == ["Agent-1", "Agent-2"]
    text = rig.config.read_text(encoding="utf-8")
    assert text.count("[[parked]]") == 2 and "# the team (a comment swarm desktop up keeps)" in text
    assert text.count('role = "coder"  # keep me') == 4
    assert len(swarm_windows(rig.server)) == 2
    assert rig.tmux("has-session", "-t", "swarm-Agent-3").returncode == 0  # kept
    said = rig.swarm("desktop", "up", "--agents", "2", "--layout", "2x1")
    assert said.returncode == 0, said.stderr
    assert "parked Agent-3, Agent-4: [[parked]] in the agents file" not in said.stdout
    back = rig.up("--agents", "3")
    assert [(r["agent"], r["action"]) for r in back] == [
        ("Agent-1", "kept"), ("Agent-2", "kept"), ("Agent-3", "reattached")
    ]  # fmt: skip
    agents = {a.id: a for a in load_agents(rig.config)}
    assert list(agents) == ["Agent-1", "Agent-2", "Agent-3"]
    assert agents["Agent-3"].input is not None and inside(
        (*agents["Agent-3"].input, 1, 1), cell_of(2)
    )
    assert len(swarm_windows(rig.server)) == 3
    too_many = rig.swarm("desktop", "up", "--agents", "5")
    assert too_many.returncode == 2 and "--agents must be from 1 to 4" in too_many.stderr
    done = rig.swarm("desktop", "down")
    assert done.returncode == 0 and "Agent-4: session swarm-Agent-4 ended" in done.stdout


def test_run_refuses_an_agent_whose_point_is_in_another_agents_window(
    shared_xvfb: XServer, tmp_path: Path
) -> None:
    """Issue 41, item 4: ``swarm run`` says at start that Agent-2's input point lies inside
    Agent-1's window and does not deliver to it (a click there would type into Agent-1);
    ``swarm agents check`` names both too."""
    config = tmp_path / "agents.toml"
    config.write_text(
        '[[agent]]\nid = "Agent-1"\nrole = "coder"\ninput = [480, 500]\n'
        "watch = [0, 0, 960, 540]\n\n"
        '[[agent]]\nid = "Agent-2"\nrole = "qa"\ninput = [300, 200]\n'
        "watch = [960, 0, 960, 540]\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    env = {"DISPLAY": shared_xvfb.display, "XAUTHORITY": str(shared_xvfb.xauthority)}
    assert run_cli(home, "task", "add", "Check it", "--role", "qa", config=config).code == 0
    burst = run_cli(home, "run", "--no-discord", "--burst", config=config, env=env, timeout=90)
    assert burst.code == 0, burst.err
    warned = [line for line in burst.err.splitlines() if "lies inside" in line]
    assert len(warned) == 1, burst.err
    assert (
        "Agent-2: input point (300, 200) lies inside Agent-1's window (its watch region "
        in (warned[0])
    )
    assert "not delivered to" in warned[0]
    events = json.loads(run_cli(home, "events", "--json", config=config).out)
    failed = [e for e in events if e["kind"] == "delivery.failed"]
    assert len(failed) == 1 and failed[0]["agent"] == "Agent-2", events
    assert failed[0]["text"].endswith("input point inside Agent-1's window"), failed[0]
    assert not [e for e in events if e["kind"] == "delivery.retrying"]
    check = run_cli(home, "agents", "check", config=config, env=env)
    assert check.code == 1
    assert "Agent-2's input point [300, 200] is inside Agent-1's input box" in check.out, check.out


def test_up_names_bad_input_in_one_line_and_writes_nothing(rig: DesktopRig) -> None:
    before = rig.config.read_text(encoding="utf-8")
    for args, message in (
        (["--layout", "1x1"], "4 agents do not fit a 1x1 layout"),
        (["--agents", "9"], "--agents must be from 1 to 4"),
        (["--layout", "wide"], "--layout must be COLUMNSxROWS"),
        (["--monitor", "3"], "monitor 3 does not exist"),
    ):
        done = rig.swarm("desktop", "up", *args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert message in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert rig.config.read_text(encoding="utf-8") == before
    assert swarm_windows(rig.server) == []


@pytest.mark.timeout(300)
def test_up_under_openbox_in_a_child_process(tmp_path: Path) -> None:
    """The same with a window manager (its own Xvfb): cells, prompts, a re-attach."""
    if shutil.which("openbox") is None:
        skip_or_fail("openbox is not installed (apt-get install openbox)")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "desktop_up.py"),
            "--wm",
            "--agents",
            "4",
            "--prompts",
            "8",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=280,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["window_manager"] is True and result["in_cells"] == 4
    assert result["delivered"] == 8 and result["resumed_kept"] is True


# the terminals other than xterm the test machine has: (name in the agents file, its paste key)
OTHER_TERMINALS = [
    ("urxvt", "ctrl+alt+v", "rxvt-unicode"),
    ("kitty", "ctrl+shift+v", "kitty"),
    ("alacritty", "ctrl+shift+v", "alacritty"),
]


@pytest.mark.timeout(240)
@pytest.mark.parametrize(("terminal", "paste", "package"), OTHER_TERMINALS)
async def test_other_terminals_get_multi_line_prompts_in_their_cells(
    shared_xvfb: XServer, tmp_path: Path, terminal: str, paste: str, package: str
) -> None:
    """Each terminal with its own options for title, geometry and command, placed in its cell,
    pasting with its own default key; rxvt-unicode asks before pasting several lines by
    default: swarm's urxvt does not."""
    if shutil.which(terminal) is None or shutil.which("tmux") is None:
        skip_or_fail(f"{terminal} or tmux not installed (apt-get install {package} tmux)")
    rig = DesktopRig(shared_xvfb, tmp_path / "rig", agents=2, terminal=terminal)
    home = tmp_path / "driver"
    home.mkdir()
    try:
        rows = rig.up()
        rig.wait_ready()
        for index, row in enumerate(rows):
            assert inside(outer_box(rig.server, row["window"]), cell_of(index)), row
        agents = {a.id: a for a in load_agents(rig.config)}
        assert agents["Agent-1"].paste == paste
        texts = make_texts(6, long_every=5)
        with display_env(rig.server):
            rig.server.xdotool("mousemove", "960", "1000")
            driver = GuiDriver(home, KillSwitch(home), GuiOptions(human_idle_s=0.05))
            try:
                for n, text in enumerate(texts):
                    receipt = await as_scheduled(driver, n + 1, agents[rig.names[n % 2]], text)
                    assert receipt.ok, receipt.reason
            finally:
                driver.close()
        assert rig.wait_for("Agent-1", 3) == texts[0::2]
        assert rig.wait_for("Agent-2", 3) == texts[1::2]
    finally:
        rig.stop()


async def as_scheduled(driver: GuiDriver, n: int, agent: Agent, text: str) -> Receipt:
    """Delivery ``n`` as the scheduler makes it: a deferred one tried again without using a
    try, a retryable failure tried again twice. Measured: alacritty's first delivery, just
    after its app said ready, often found no input on its pane yet (nothing typed; now
    deferred: "its CLI is still starting"); a later try took it."""
    receipt = await driver.deliver(Parcel(n, agent, text, "test"))
    tries, deadline = 1, time.monotonic() + 60
    while not receipt.ok and receipt.retryable and time.monotonic() < deadline:
        if not receipt.deferred and tries == 3:
            break
        tries += not receipt.deferred
        await asyncio.sleep(0.1 if receipt.deferred else 0.5)  # a CLI starting: look often
        receipt = await driver.deliver(Parcel(n, agent, text, "test", is_retry=True))
    return receipt


def doctor_lines(rig: DesktopRig) -> list[tuple[str, str]]:
    """``swarm doctor --json``: the desktop windows findings (status, detail)."""
    done = rig.swarm("doctor", "--json", "--timeout", "1")
    found = json.loads(done.stdout)
    return [(f["status"], f["detail"]) for f in found if f["check"] == "desktop windows"]


@pytest.mark.timeout(240)
def test_doctor_checks_each_agents_window_point_and_command(rig: DesktopRig) -> None:
    assert doctor_lines(rig) == []  # desktop up never used: nothing to say
    rig.up()
    rig.wait_ready()
    assert doctor_lines(rig) == [("ok", "4 agent window(s) open, commands running")]
    kill_window(rig, "Agent-2")
    text = rig.config.read_text(encoding="utf-8")
    moved = text.replace("input = [", "input = [1900, 1000]\nold_input = [", 1)
    rig.config.write_text(moved.replace("old_input = [", "# was [", 1), encoding="utf-8")
    lines = doctor_lines(rig)
    assert ("PROBLEM", "Agent-2: its window is not open (swarm desktop up opens it)") in lines
    assert any(
        status == "PROBLEM" and detail.startswith("Agent-1: input point [1900, 1000] is outside")
        for status, detail in lines
    ), lines
    assert len(lines) == 2


@pytest.mark.timeout(240)
def test_an_agent_starts_in_the_worktree_workspaces_init_made(
    shared_xvfb: XServer, tmp_path: Path
) -> None:
    if shutil.which("tmux") is None or shutil.which("git") is None:
        skip_or_fail("tmux or git not installed")
    rig = DesktopRig(shared_xvfb, tmp_path / "rig", agents=2, with_workspaces=0)
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (["init", "-q", "-b", "main"], ["-c", "user.name=t", "-c", "user.email=t@x",
                 "commit", "-q", "--allow-empty", "-m", "start"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=repo, check=True, env=rig.env, timeout=30)
    try:
        text = rig.config.read_text(encoding="utf-8")  # Agent-2 uses swarm's MCP tools
        rig.config.write_text(text.replace('id = "Agent-2"', 'id = "Agent-2"\nmcp = true'))
        made = rig.swarm("workspaces", "init", str(repo), "--agents", "Agent-2")
        assert made.returncode == 0, made.stdout + made.stderr
        rig.up()
        rig.wait_ready()
        (first,) = rig.starts("Agent-1")
        (second,) = rig.starts("Agent-2")
        assert first["cwd"] == str(rig.workdir)  # no workspace: where up was run
        worktree = Path(second["cwd"])
        assert worktree.parent.parent == rig.home / "workspaces" and worktree.name == "Agent-2"
        show = ["git", "branch", "--show-current"]
        done = subprocess.run(show, cwd=worktree, text=True, capture_output=True, timeout=30)
        branch = done.stdout.strip()
        assert branch.endswith("Agent-2")
        # the hooks went into Agent-2's worktree before its CLI started, none into the shared
        # folder Agent-1 started in
        hooks = json.loads((worktree / ".claude" / "settings.local.json").read_text())
        commands = [h["command"] for e in hooks["hooks"]["Stop"] for h in e["hooks"]]
        assert any("bot.cli.hook --agent Agent-2" in c for c in commands), commands
        assert not (worktree / ".codex").exists()  # a Claude Code agent: only Claude's files
        servers = json.loads((worktree / ".mcp.json").read_text())["mcpServers"]
        assert servers["swarm"]["env"]["SWARM_AGENT"] == "Agent-2"
        assert not (rig.workdir / ".claude").exists()
        untracked = ["git", "status", "--porcelain", "--untracked-files=all"]
        done = subprocess.run(untracked, cwd=worktree, text=True, capture_output=True, timeout=30)
        assert done.stdout == ""  # kept out of git: an agent's `git add -A` leaves them
    finally:
        rig.stop()
