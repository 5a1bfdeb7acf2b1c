"""``swarm desktop status`` and ``down`` as a user of the protocol route meets them (issue 64,
item 5): no display, no ``--headless``; a protocol agent's real host (started as ``desktop up
--protocol`` starts it, its agent ``hostile_acp``) is seen running with its session, a tmux
agent without its session is stopped (exit 1); ``down`` ends the host; after it the agent has
no host. Each row says the agent's route, state, task and spend today."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from automation.protocol import launch
from core.agents_file import load_agents
from core.hosts import running
from core.models import Receipt, TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.agents.test_host_hostile import AGENT_SCRIPT
from tests.helpers import ROOT, cli_env, run_cli, write_agents

pytestmark = [pytest.mark.timeout(120)]


@dataclass(frozen=True)
class Desk:
    """A swarm home and its agents file, and the environment its commands run with."""

    home: Path
    config: Path
    env: dict[str, str]
    work: Path  # the first agent's workspace


def desk(
    tmp_path: Path,
    command: str,
    agents: tuple[str, ...] = ("P",),
    cli: str | None = "gemini",
    program: str | None = None,
) -> Desk:
    """``agents`` (of ``cli``), each in a workspace of its own (``work`` for one), the
    ``[desktop]`` command ``command``; ``program``: the text of the script named by the
    command's first word, alone with the system's on the ``PATH``."""
    home = tmp_path / "home"
    home.mkdir()
    rows: list[dict[str, object]] = []
    folders: list[Path] = []
    for agent in agents:
        folders.append(tmp_path / ("work" if len(agents) == 1 else agent))
        folders[-1].mkdir()
        row: dict[str, object] = {"id": agent, "role": "dev", "workspace": str(folders[-1])}
        rows.append(row | ({"cli": cli} if cli else {}))
    config = write_agents(tmp_path / "agents.toml", rows)
    config.write_text(config.read_text() + f"\n[desktop]\ncommand = {json.dumps(command)}\n")
    env: dict[str, str] = {}
    if program is not None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        script = bin_dir / command.split()[0]
        script.write_text(program, encoding="utf-8")
        script.chmod(0o755)
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    return Desk(home, config, env, folders[0])


def test_status_and_down_see_hosts_without_a_display(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = write_agents(tmp_path / "agents.toml", [
        {"id": "P", "role": "dev", "delivery": "protocol", "cli": "gemini"},
        {"id": "T", "role": "dev", "delivery": "tmux", "tmux": "swarm-T:0.0"},
    ])  # fmt: skip
    with warnings.catch_warnings():  # the host outlives its Popen, as after desktop up
        warnings.simplefilter("ignore", ResourceWarning)
        hello = asyncio.run(launch.start(home, "P", [sys.executable, str(AGENT_SCRIPT)],
                                         tmp_path, dict(os.environ), wait_s=30))  # fmt: skip
        gc.collect()
    env = {"TMUX_TMPDIR": str(tmp_path)}  # a tmux server of the test's own
    try:
        shown = run_cli(home, "desktop", "status", "--json", config=config, env=env)
        assert shown.code == 1, shown.out + shown.err  # T has no session
        rows = {row["agent"]: row for row in json.loads(shown.out)}
        p, t = rows["P"], rows["T"]
        assert (p["route"], p["running"], p["alive"], p["pid"]) == (
            "protocol", True, True, hello.pid
        )  # fmt: skip
        assert p["session"] == "hostile-1" and p["where"].startswith(f"host pid {hello.pid}")
        assert p["state"] == "unknown" and p["uptime_s"] >= 0
        # Gemini's usage is read from its session files, and P names no cli_dir: not $0.00
        assert p["cost_today"] == "unknown"
        assert (t["route"], t["running"], t["where"]) == ("tmux", False, "no tmux session")
        assert t["cost_today"] == "unknown"  # no CLI whose usage swarm reads: never $0.00
        text = run_cli(home, "desktop", "status", config=config, env=env)
        assert text.out.startswith("(no display: the windows are not seen"), text.out
        assert "protocol" in text.out and "hostile-1" in text.out
        down = run_cli(home, "desktop", "down", config=config, env=env)
        assert down.code == 0, down.out + down.err
        assert "P: protocol host ended" in down.out
        after = run_cli(home, "desktop", "status", "--json", config=config, env=env)
        p = next(row for row in json.loads(after.out) if row["agent"] == "P")
        assert (p["where"], p["running"]) == ("no host", False)
        assert running.host_pid(home, "P") is None
    finally:
        asyncio.run(launch.stop(home, "P"))


def test_an_agents_session_id_reaches_no_terminal_raw(tmp_path: Path) -> None:
    """The session id is the agent's word (its ``session/new`` answer): one holding a
    terminal's escapes cleared the person's screen, set its title and wrote its clipboard
    through ``swarm attach`` and ``desktop status`` (found by an attack audit). Shown
    escaped and cut now; the host keeps it whole to load it again."""
    home = tmp_path / "home"
    home.mkdir()
    config = write_agents(tmp_path / "agents.toml", [
        {"id": "P", "role": "dev", "delivery": "protocol", "cli": "gemini"},
    ])  # fmt: skip
    evil = "s1\x1b[2J\x1b]0;PWNED\x07\x1b]52;c;ZWNobw==\x07" + "x" * 500
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        env = {**os.environ, "HOSTILE_SESSION_ID": evil}
        asyncio.run(launch.start(home, "P", [sys.executable, str(AGENT_SCRIPT)], tmp_path,
                                 env, wait_s=30))  # fmt: skip
        gc.collect()
    try:
        shown = run_cli(home, "desktop", "status", config=config)
        attached = run_cli(home, "attach", "P", config=config)  # its input closed: it leaves
        for said in (shown.out, attached.out):
            assert "\x1b" not in said and "\x07" not in said, said
            assert "s1\\x1b[2J" in said and "x" * 100 not in said, said
    finally:
        asyncio.run(launch.stop(home, "P"))


def test_codex_without_its_acp_adapter_is_one_line_naming_the_package(tmp_path: Path) -> None:
    """Issue 64, item 10: the Codex route needs codex-acp; before, the host failed with no
    package named."""
    made = desk(tmp_path, "codex", ("C",), "codex", "#!/bin/sh\nexit 0\n")  # no codex-acp
    home = made.home
    up = run_cli(home, "desktop", "up", "--protocol", config=made.config, env=made.env)
    assert up.code == 2, up.out + up.err
    assert up.err == (
        "swarm: error: C: Codex CLI speaks ACP through codex-acp, which is not installed: "
        "npm install -g @zed-industries/codex-acp (or run the agent in tmux: --headless)\n"
    )
    assert running.host_pid(home, "C") is None


def test_up_says_under_a_protocol_agent_the_task_it_handed_back(tmp_path: Path) -> None:
    """A protocol agent whose host ended holding a task its session had: ``desktop up
    --protocol`` starts it afresh and says under it that the task is back in the queue, as
    for a tmux agent (before: said in ``--json`` only, nothing under a protocol agent)."""
    # the agent's CLI: the hostile ACP agent, given --acp
    made = desk(
        tmp_path, "gemini", program=f'#!/bin/sh\nexec {sys.executable} {AGENT_SCRIPT} "$@"\n'
    )
    home, config, env = made.home, made.config, made.env
    try:
        first = run_cli(home, "desktop", "up", "--protocol", config=config, env=env)
        assert first.code == 0, first.out + first.err
        settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
        task = asyncio.run(_held_and_delivered(settings, "P"))
        pid = running.host_pid(home, "P")
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while running.host_pid(home, "P") is not None:
            assert time.monotonic() < deadline, "the killed host still runs"
            time.sleep(0.05)
        again = run_cli(home, "desktop", "up", "--protocol", config=config, env=env)
        assert again.code == 0, again.out + again.err
        assert (
            f"held {task}: back in the queue now (swarm desktop up started a new session of its "
            "agent; a task pinned to P goes to its new session)" in again.out
        ), again.out
    finally:
        run_cli(home, "desktop", "down", config=config, env=env)


async def _held_and_delivered(settings: Settings, agent: str) -> str:
    """A task pinned to ``agent``, given to it, its prompt delivered; its ref."""
    service = await SwarmService.open(settings)
    try:
        task = await service.tasks.create(TaskSpec("work", agent=agent), "test")
        await service.queue.assign_batch()
        claimed = await service.queue.claim_prompt()
        assert claimed is not None and claimed[0].task_id == task.id
        await service.queue.record_receipt(claimed[0], Receipt.delivered("protocol"))
        return task.ref
    finally:
        await service.close()


def test_ctrl_c_during_up_starts_no_other_agent_and_says_so(tmp_path: Path) -> None:
    """A person's Ctrl+C while ``desktop up --protocol`` starts three agents (each CLI slow to
    answer: until the Ctrl+C was said, then at once): the agent being started finishes, the
    other two are not started and said so, exit 130; the agents file names the one started;
    the next ``up`` keeps it and starts the others. (Before, the Ctrl+C was silent: every
    agent was started, then exit 130.)"""
    go = tmp_path / "go"
    slow = (f"#!/bin/sh\nwhile [ ! -e {go} ]; do sleep 0.02; done\n"
            f'exec {sys.executable} {AGENT_SCRIPT} "$@"\n')  # fmt: skip
    made = desk(tmp_path, "gemini", ("P1", "P2", "P3"), program=slow)
    home, config, env = made.home, made.config, made.env
    up = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "desktop", "up", "--protocol"],
        env=cli_env(home, config, env=env), cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not running.pid_path(home, "P1").exists():  # its host runs, its agent sleeps
            assert up.poll() is None and time.monotonic() < deadline, up.communicate()
            time.sleep(0.02)
        up.send_signal(signal.SIGINT)
        said = said_on_stderr(up, 30)  # what it says at the Ctrl+C, its agent still starting
        go.touch()  # the CLI answers now
        out, err = up.communicate(timeout=60)
        err = said + err
        assert up.returncode == 130, out + err
        assert err == (
            "swarm desktop up: stopping once the agent being started is up (Ctrl+C again "
            "stops at once)\n"
        )
        assert out.startswith("P1           started    protocol, host pid "), out
        for agent in ("P2", "P3"):
            said = f"{agent}           not started: stopped by Ctrl+C (swarm desktop up starts it)"
            assert said in out.splitlines(), out
            assert running.host_pid(home, agent) is None
        assert [a.id for a in load_agents(config) if a.delivery == "protocol"] == ["P1"]
        again = run_cli(home, "desktop", "up", "--protocol", config=config, env=env, timeout=60)
        assert again.code == 0, again.out + again.err
        assert again.out.startswith("P1           kept       protocol"), again.out
        assert "P3           started    protocol" in again.out, again.out
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
        run_cli(home, "desktop", "down", config=config, env=env)


def said_on_stderr(process: subprocess.Popen[str], timeout: float) -> str:
    """A first line on ``process``'s standard error (read unbuffered, so that ``communicate``
    reads the rest), or what came by the timeout."""
    fd, said = process.stderr.fileno() if process.stderr else -1, b""
    deadline = time.monotonic() + timeout
    while not said.endswith(b"\n") and (left := deadline - time.monotonic()) > 0:
        if not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        said += chunk
    return said.decode()


def test_a_route_change_whose_host_fails_says_the_session_it_ended(tmp_path: Path) -> None:
    """An agent up in tmux, then ``up --protocol`` whose CLI refuses its protocol: the error
    says the tmux session was ended for the change (before: only the CLI's refusal, and the
    person found the agent stopped); ``--timeout`` refuses what is no time."""
    refuses = '#!/bin/sh\ncase "$*" in *--acp*) echo "no ACP here" >&2; exit 3;; esac\n'
    made = desk(tmp_path, "gemini", program=refuses + "exec sleep 600\n")  # waits in a pane
    home, config, env = made.home, made.config, made.env
    try:
        first = run_cli(home, "desktop", "up", "--headless", config=config, env=env)
        assert first.code == 0, first.out + first.err
        hosted = run_cli(home, "desktop", "up", "--protocol", config=config, env=env)
        assert hosted.code == 2, hosted.out + hosted.err
        assert hosted.err.startswith("swarm: error: P: the agent did not start: "), hosted.err
        assert hosted.err.endswith(" (before it: P: session swarm-P ended: its route changed)\n"), (
            hosted.err
        )
        late = run_cli(home, "desktop", "up", "--headless", "--timeout", "-5", config=config)
        assert late.code == 2 and "--timeout: expected seconds, more than 0" in late.err
    finally:
        run_cli(home, "desktop", "down", config=config, env=env)


def test_a_route_change_that_cannot_start_ends_nothing(tmp_path: Path) -> None:
    """Codex up in tmux, then ``up --protocol`` without ``codex-acp`` installed: one line
    naming its package, and the tmux session still runs (before: the session was ended for
    the change, then the host's start found the adapter missing: the agent stopped for
    nothing)."""
    made = desk(tmp_path, "codex", cli="codex", program="#!/bin/sh\nexec sleep 600\n")
    home, config, env = made.home, made.config, made.env
    try:
        first = run_cli(home, "desktop", "up", "--headless", config=config, env=env)
        assert first.code == 0, first.out + first.err
        hosted = run_cli(home, "desktop", "up", "--protocol", config=config, env=env)
        assert (hosted.code, hosted.out) == (2, ""), hosted.out + hosted.err
        assert hosted.err == (
            "swarm: error: P: Codex CLI speaks ACP through codex-acp, which is not installed: "
            "npm install -g @zed-industries/codex-acp (or run the agent in tmux: --headless)\n"
        )
        status = run_cli(home, "desktop", "status", "--json", config=config, env=env)
        (row,) = json.loads(status.out)
        assert row["session"] == "swarm-P" and row["alive"] is True, row
        assert [a.delivery for a in load_agents(config)] == ["tmux"]
    finally:
        run_cli(home, "desktop", "down", config=config, env=env)


def test_agents_started_before_one_that_fails_are_in_the_agents_file(tmp_path: Path) -> None:
    """``up --protocol`` of two agents whose second CLI refuses ACP: the error names it, and
    the first, whose host runs on, is in the agents file as hosted (before: the file was
    written only when all started, so swarm did not know the first was hosted)."""
    program = (f'#!/bin/sh\n[ "$SWARM_AGENT" = P2 ] && {{ echo "no ACP here" >&2; exit 3; }}\n'
               f'exec {sys.executable} {AGENT_SCRIPT} "$@"\n')  # fmt: skip
    made = desk(tmp_path, "gemini", ("P1", "P2"), program=program)
    home, config, env = made.home, made.config, made.env
    try:
        up = run_cli(home, "desktop", "up", "--protocol", config=config, env=env, timeout=60)
        assert up.code == 2 and up.err.startswith("swarm: error: P2: "), up.out + up.err
        assert running.host_pid(home, "P1") is not None
        assert [(a.id, a.delivery) for a in load_agents(config)][:1] == [("P1", "protocol")]
    finally:
        run_cli(home, "desktop", "down", config=config, env=env)


def test_sessions_started_before_one_that_ends_at_once_are_in_the_agents_file(
    tmp_path: Path,
) -> None:
    """``up --headless`` of two agents whose second CLI exits at once: the error names its
    session, and the first, whose session runs on, is in the agents file with its pane."""
    program = '#!/bin/sh\n[ "$SWARM_AGENT" = P2 ] && exit 3\nexec sleep 600\n'
    made = desk(tmp_path, "gemini", ("P1", "P2"), program=program)
    home, config, env = made.home, made.config, made.env
    try:
        up = run_cli(home, "desktop", "up", "--headless", config=config, env=env, timeout=60)
        assert up.code == 2 and "swarm-P2" in up.err, up.out + up.err
        first = load_agents(config)[0]
        assert (first.id, first.delivery, first.tmux) == ("P1", "tmux", "swarm-P1:0"), first
    finally:
        run_cli(home, "desktop", "down", config=config, env=env)


def test_a_task_handed_back_by_up_beside_swarm_run_goes_by_the_new_route(tmp_path: Path) -> None:
    """``swarm run`` first, a task for P, then ``desktop up --protocol``: the task P held (its
    prompt written to P's inbox, P on no route yet) is handed back, and its prompt reaches
    P's host (before: it went to the inbox again when swarm run delivered it before its next
    look at the agents file, and P never had it)."""
    made = desk(
        tmp_path, "gemini", program=f'#!/bin/sh\nexec {sys.executable} {AGENT_SCRIPT} "$@"\n'
    )
    home, config, env = made.home, made.config, made.env
    run_env = {**cli_env(home, config, env=env), "SWARM_WEB": "off"}
    run_env.pop("DISPLAY", None)
    coordinator = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"], env=run_env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        added = run_cli(home, "task", "add", "say hello", "--agent", "P", config=config, env=env)
        assert added.code == 0, added.err
        _until_delivered(home, "inbox")
        up = run_cli(home, "desktop", "up", "--protocol", config=config, env=env, timeout=60)
        assert up.code == 0 and "held T-1: back in the queue now" in up.out, up.out + up.err
        _until_delivered(home, "protocol")
    finally:
        coordinator.send_signal(signal.SIGINT)
        coordinator.wait(timeout=60)
        run_cli(home, "desktop", "down", config=config, env=env)


def _until_delivered(home: Path, method: str) -> None:
    """Until the task's prompt (not a nudge about it) went to P by ``method`` (the
    coordinator's database, read here)."""
    deadline = time.monotonic() + 30
    while True:
        with contextlib.closing(sqlite3.connect(home / "swarm.db")) as conn:
            found = conn.execute(
                "SELECT d.method, d.state, m.text FROM deliveries d "
                "JOIN messages m ON m.id = d.message_id WHERE d.agent_id = 'P' ORDER BY d.id"
            ).fetchall()
        if (method, "delivered", "T-1: say hello") in [(m, s, t[:14]) for m, s, t in found]:
            return
        assert time.monotonic() < deadline, [(m, s, t[:80]) for m, s, t in found]
        time.sleep(0.1)


def test_a_cli_that_is_not_there_is_one_line_in_tmux(tmp_path: Path) -> None:
    """``up --headless`` of an agent whose command is not installed: its session ends at
    once, said in one line (before, two warnings about tmux options came first)."""
    made = desk(tmp_path, "no-such-cli")
    home, config, work = made.home, made.config, made.work
    up = run_cli(home, "desktop", "up", "--headless", config=config)
    assert up.code == 2, up.out + up.err
    assert up.err == (
        f"swarm: error: tmux session swarm-P ended at once: does `no-such-cli` run in {work}?\n"
    )


def test_ctrl_c_during_down_lets_it_finish_and_hand_the_tasks_back(tmp_path: Path) -> None:
    """A Ctrl+C while ``desktop down`` waits for a pane's program that ignores SIGHUP and
    SIGTERM: down says it finishes, ends the session, hands its task back and exits 0.
    (Before: silent, the session ended, the task not handed back, exit 130.)"""
    made = desk(tmp_path, "sh -c 'trap \"\" HUP TERM; exec sleep 600'", ("T",), cli=None)
    home, config = made.home, made.config
    up = run_cli(home, "desktop", "up", "--headless", config=config)
    assert up.code == 0, up.out + up.err
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    task = asyncio.run(_held_and_delivered(settings, "T"))
    down = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "desktop", "down"], env=cli_env(home, config),
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        has = ["tmux", "-S", str(home / "tmux" / "swarm"), "has-session", "-t", "=swarm-T"]
        deadline = time.monotonic() + 60
        while subprocess.run(has, capture_output=True, check=False).returncode == 0:
            assert down.poll() is None and time.monotonic() < deadline, down.communicate()
            time.sleep(0.02)
        down.send_signal(signal.SIGINT)  # its program still runs: 1 s before SIGTERM, then KILL
        out, err = down.communicate(timeout=60)
    finally:
        if down.poll() is None:
            down.kill()
            down.communicate()
    assert down.returncode == 0, out + err
    assert err == (
        "swarm desktop down: stopping: at once if it still waits for another up or down, "
        "else once what is open has ended and its tasks are back in the queue "
        "(Ctrl+C again stops at once)\n"
    )
    assert "T: session swarm-T ended" in out and f"held {task}: back in the queue" in out, out
