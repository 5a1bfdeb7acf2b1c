"""One machine, several homes, no collisions (issue 79, item 7): each swarm home's sessions on
a tmux server of its own, the agents file's ``tmux_socket`` honoured, a person's own sessions
on their default server never touched, an older swarm's sessions there found, said and ended,
and ``desktop status`` listing every session and host of the home with the stray ones
flagged. Real tmux, the scripted agent CLI, the real ``swarm`` command line; each test's
person has a HOME and a default tmux server of its own (``TMUX_TMPDIR``)."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from automation import tmux_sessions
from automation.protocol import launch
from automation.routes import build_deliverer
from core.agents_file import load_agents
from core.coordinator.scheduler import Scheduler
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.agents.test_host_hostile import AGENT_SCRIPT
from tests.conftest import skip_or_fail
from tests.desktop.rig import DesktopRig
from tests.desktop.test_headless import drain_until_exit

pytestmark = [pytest.mark.timeout(180)]


@pytest.fixture
def rigs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[DesktopRig]]:
    """Two homes of one person on one machine: two agents each, one default tmux server
    (the first rig's ``TMUX_TMPDIR``), no display."""
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (apt-get install tmux)")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "TMUX_PANE"):
        monkeypatch.delenv(name, raising=False)
    made = [DesktopRig(None, tmp_path / name, agents=2) for name in ("a", "b")]
    made[1].env["TMUX_TMPDIR"] = made[0].env["TMUX_TMPDIR"]  # the person's one default server
    monkeypatch.setenv("TMUX_TMPDIR", made[0].env["TMUX_TMPDIR"])
    yield made
    for rig in made:
        rig.stop()


def up(rig: DesktopRig, *args: str) -> dict[str, dict[str, Any]]:
    """``desktop up --headless``: its rows by agent."""
    done = rig.swarm("desktop", "up", "--headless", "--json", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return {row["agent"]: row for row in json.loads(done.stdout)}


def up_said(rig: DesktopRig, *args: str) -> tuple[dict[str, dict[str, Any]], str]:
    """``desktop up --headless``: its rows by agent, and its text output (a second run)."""
    rows = up(rig, *args)
    text = rig.swarm("desktop", "up", "--headless", *args)
    assert text.returncode == 0, text.stdout + text.stderr
    return rows, text.stdout


def status(rig: DesktopRig) -> tuple[int, dict[str, dict[str, Any]]]:
    """``desktop status --headless --json``: its exit code and rows by agent."""
    done = rig.swarm("desktop", "status", "--headless", "--json")
    assert done.stdout, done.stderr
    return done.returncode, {row["agent"]: row for row in json.loads(done.stdout)}


def attach_line(said: str, session: str) -> list[str]:
    """The ``tmux [-S SOCKET] attach -t SESSION`` ``desktop up`` printed, as words."""
    found = re.search(rf"\btmux (-S \S+ )?attach -t {session}\b", said)
    assert found is not None, f"no attach line for {session} in {said!r}"
    return shlex.split(found[0])


async def deliver(rig: DesktopRig, text: str) -> None:
    """``text`` to each agent of ``rig``, through the tmux route as the coordinator does."""
    settings = Settings.from_env({"SWARM_HOME": str(rig.home), "SWARM_CONFIG": str(rig.config)})
    service = await SwarmService.open(settings)
    deliverer = build_deliverer(settings, list(service.agents.values()), service.kill_switch)
    try:
        for name in rig.names:
            await service.messages.send(name, f"{text} {name}", "me")
        await Scheduler(service, deliverer).run_burst()
    finally:
        deliverer.close()
        await service.close()


async def test_two_homes_have_their_own_servers_and_the_persons_sessions_are_untouched(
    rigs: list[DesktopRig],
) -> None:
    a, b = rigs
    # the person's own session on their default server, named as swarm names its own
    made = a.default_tmux("new-session", "-d", "-s", "swarm-Agent-1", "sleep 600")
    assert made.returncode == 0, made.stderr
    rows_a, said_a = up_said(a)
    rows_b = up(b)
    assert {r["action"] for r in [*rows_a.values(), *rows_b.values()]} == {"started"}
    assert a.socket != b.socket and a.socket.startswith(str(a.home))
    for rig, rows in ((a, rows_a), (b, rows_b)):
        rig.wait_ready()
        agents = {agent.id: agent for agent in load_agents(rig.config)}
        for name in rig.names:
            assert rows[name]["tmux_socket"] == rig.socket
            assert (agents[name].tmux, agents[name].tmux_socket) == (
                f"swarm-{name}:0", rig.socket,
            )  # fmt: skip
            assert rig.tmux("has-session", "-t", f"=swarm-{name}").returncode == 0
    # what a person types to look at an agent names its home's server
    words = attach_line(said_a, "swarm-Agent-1")
    assert words[:3] == ["tmux", "-S", a.socket], said_a
    shown = a.default_tmux(*words[1:-3], "has-session", "-t", "=swarm-Agent-1")
    assert shown.returncode == 0, shown.stderr
    # each home's prompts reach its own agents only
    await deliver(a, "for home a:")
    await deliver(b, "for home b:")
    for rig, other in ((a, "b"), (b, "a")):
        for name in rig.names:
            texts = rig.wait_for(name, 1)
            assert len(texts) == 1 and f"for home {rig.home.parent.name}: {name}" in texts[0]
            assert f"home {other}" not in texts[0]
    code, rows = status(b)
    assert code == 0 and {r["running"] for r in rows.values()} == {True}, rows
    doctor = b.swarm("doctor", "--no-discord").stdout
    assert f"Agent-2: pane swarm-Agent-2:0 on tmux server {b.socket}" in doctor, doctor
    assert not any(r["stray"] for r in rows.values()), rows
    # down in one home ends its sessions only
    done = a.swarm("desktop", "down", "--headless")
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split("\n")[:2]) == [
        "Agent-1: session swarm-Agent-1 ended", "Agent-2: session swarm-Agent-2 ended",
    ], done.stdout  # fmt: skip
    assert a.tmux("ls").returncode != 0
    assert b.tmux("has-session", "-t", "=swarm-Agent-1").returncode == 0
    mine = a.default_tmux("list-panes", "-t", "=swarm-Agent-1", "-F", "#{pane_current_command}")
    assert mine.stdout.strip() == "sleep", mine  # the person's, as it was
    up(b, "--agents", "1")  # Agent-2 parked: its session kept, listed, no stray
    _, rows = status(b)
    parked = rows["Agent-2"]
    assert (parked["session"], parked["alive"], parked["stray"]) == ("swarm-Agent-2", True, False)
    assert parked["why"] == f"parked, tmux swarm-Agent-2 on tmux server {b.socket} kept", parked


def test_an_older_swarms_sessions_are_found_said_and_ended_by_down(
    rigs: list[DesktopRig],
) -> None:
    """An older swarm started its sessions on the default server: ``status`` finds this home's
    (its environment names the home), flagged; ``down`` ends them and leaves the person's and
    another home's."""
    rig, other = rigs
    older = ["new-session", "-d", "-s", "swarm-Agent-1", "-e", f"SWARM_HOME={rig.home}"]
    assert rig.default_tmux(*older, "sleep 600").returncode == 0
    theirs = ["new-session", "-d", "-s", "swarm-Agent-2", "-e", f"SWARM_HOME={other.home}"]
    assert rig.default_tmux(*theirs, "sleep 600").returncode == 0
    assert rig.default_tmux("new-session", "-d", "-s", "swarm-Ghost", "sleep 600").returncode == 0
    _, rows = status(rig)
    one, two = rows["Agent-1"], rows["Agent-2"]
    assert (one["alive"], one["session"], one["stray"]) == (True, "swarm-Agent-1", True)
    assert "an older swarm's: swarm desktop down ends it" in one["why"], one
    assert "your default tmux server" in one["why"], one
    assert (two["session"], two["alive"], two["stray"]) == (None, False, False), two
    assert "Ghost" not in rows  # the person's session of swarm's naming is not this home's
    text = rig.swarm("desktop", "status", "--headless")
    assert "stray: tmux swarm-Agent-1 on your default tmux server" in text.stdout, text.stdout
    _tmux_panes(rig)  # an older swarm's agents file: its panes named on the default server
    doctor = rig.swarm("doctor", "--no-discord").stdout
    assert "Agent-1: pane swarm-Agent-1:0 on default server" in doctor, doctor
    assert "Agent-1: session swarm-Agent-1 an older swarm started on your default tmux " \
        "server: swarm desktop up moves it" in doctor, doctor  # fmt: skip
    assert "Agent-2: session" not in doctor, doctor  # another home's
    done = rig.swarm("desktop", "down", "--headless")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "Agent-1: session swarm-Agent-1 an older swarm started on your default tmux server ended"
    ), done.stdout
    listed = rig.default_tmux("ls", "-F", "#{session_name}").stdout.split()
    assert sorted(listed) == ["swarm-Agent-2", "swarm-Ghost"], listed


def test_attach_finds_an_older_swarms_session_and_nests_inside_another_server(
    rigs: list[DesktopRig],
) -> None:
    """``swarm attach`` of an agent whose session an older swarm started on the default
    server attaches there; run inside a tmux client of another server (``$TMUX``), it
    attaches anew (``switch-client`` cannot cross servers)."""
    rig = rigs[0]
    older = ["new-session", "-d", "-s", "swarm-Agent-1", "-e", f"SWARM_HOME={rig.home}"]
    assert rig.default_tmux(*older, "sleep 600").returncode == 0
    elsewhere = f"{rig.workdir}/other.sock,1,0"  # a client of another tmux server
    pid, fd = pty.fork()
    if pid == 0:  # the child: swarm attach in a terminal (a pty)
        os.chdir(rig.workdir)
        os.execve(sys.executable, [sys.executable, "-m", "bot.cli", "attach", "Agent-1"],
                  {**rig.env, "TERM": "xterm", "TMUX": elsewhere})  # fmt: skip
    try:
        seen, deadline = b"", time.monotonic() + 30
        listed = ("list-clients", "-t", "=swarm-Agent-1", "-F", "#{client_name}")
        while not rig.default_tmux(*listed).stdout.strip():
            assert time.monotonic() < deadline, seen
            if select.select([fd], [], [], 0.1)[0]:
                seen += os.read(fd, 65536)
        os.write(fd, b"\x02d")  # Ctrl+B, D: detach
        assert drain_until_exit(pid, fd) == 0, seen
    finally:
        os.close(fd)
    gone = rig.swarm("attach", "Agent-2")
    assert "no tmux session swarm-Agent-2" in gone.stderr and gone.returncode != 0


def test_up_moves_an_older_swarms_session_to_the_homes_own_server(
    rigs: list[DesktopRig],
) -> None:
    rig = rigs[0]
    first = up(rig, "--agents", "1")  # as an older swarm: its session on the default server
    rig.wait_ready(["Agent-1"])
    assert rig.tmux("kill-server").returncode == 0
    older = ["new-session", "-d", "-s", "swarm-Agent-1", "-e", f"SWARM_HOME={rig.home}"]
    assert rig.default_tmux(*older, "sleep 600").returncode == 0
    done = rig.swarm("desktop", "up", "--headless", "--json", "--agents", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    row = json.loads(done.stdout)[0]
    assert row["action"] == "resumed", row
    assert "an older swarm started on your default tmux server ended" in str(row["notes"]), row
    assert rig.default_tmux("has-session", "-t", "=swarm-Agent-1").returncode != 0
    assert rig.tmux("has-session", "-t", "=swarm-Agent-1").returncode == 0
    assert first["Agent-1"]["tmux_socket"] == row["tmux_socket"] == rig.socket


async def test_a_named_tmux_socket_is_honoured_and_another_homes_session_refused(
    rigs: list[DesktopRig], tmp_path: Path
) -> None:
    a, b = rigs
    named = tmp_path / "shared" / "team.sock"
    for rig in (a, b):
        text = rig.config.read_text(encoding="utf-8").replace(
            'id = "Agent-1"\n',
            f'id = "Agent-1"\ntmux = "swarm-Agent-1:0"\ntmux_socket = "{named}"\n',
        )
        rig.config.write_text(text, encoding="utf-8")
    rows, said = up_said(a)
    a.wait_ready()
    assert rows["Agent-1"]["tmux_socket"] == str(named)
    assert rows["Agent-2"]["tmux_socket"] == a.socket
    on = ["tmux", "-S", str(named)]
    found = a.default_tmux("-S", str(named), "ls", "-F", "#{session_name}")
    assert found.stdout.split() == ["swarm-Agent-1"], found
    assert a.tmux("has-session", "-t", "=swarm-Agent-1").returncode != 0
    assert attach_line(said, "swarm-Agent-1")[:3] == on
    await deliver(a, "named:")
    assert "named: Agent-1" in a.wait_for("Agent-1", 1)[0]
    code, rows = status(a)
    assert code == 0 and rows["Agent-1"]["session"] == "swarm-Agent-1", rows
    # a second home naming the same server: its session of that name is refused, not taken
    refused = b.swarm("desktop", "up", "--headless")
    assert refused.returncode != 0
    assert f"is swarm home {a.home}'s, not {b.home}'s" in refused.stderr, refused.stderr
    done = a.swarm("desktop", "down", "--headless", "--agent", "Agent-1")
    assert done.stdout.strip() == "Agent-1: session swarm-Agent-1 ended", done.stdout
    # the person's own session of that name on the shared server: not taken, not ended
    assert a.default_tmux("-S", str(named), "new-session", "-d", "-s", "swarm-Agent-1",
                          "sleep 600").returncode == 0  # fmt: skip
    refused = b.swarm("desktop", "up", "--headless")
    assert "swarm-Agent-1 on tmux server" in refused.stderr, refused.stderr
    assert "is no swarm home's" in refused.stderr and refused.returncode != 0
    b.swarm("desktop", "down", "--headless")
    assert a.default_tmux("-S", str(named), "has-session", "-t", "=swarm-Agent-1").returncode == 0
    a.default_tmux("-S", str(named), "kill-server")


def test_status_lists_every_session_and_host_of_the_home_strays_flagged(
    rigs: list[DesktopRig], tmp_path: Path
) -> None:
    rig = rigs[0]
    up(rig)
    rig.wait_ready()
    ghost = rig.tmux("new-session", "-d", "-s", "swarm-Ghost", "sleep 600")  # a removed agent
    assert ghost.returncode == 0, ghost.stderr
    _delivery(rig, "Agent-2", "protocol")  # moved by hand: its session runs on
    # a host of an agent no longer in the agents file, and one beside Agent-1's session
    try:
        hello, beside = _host(rig, "Gone", tmp_path), _host(rig, "Agent-1", tmp_path)
        _, rows = status(rig)
        both = rows["Agent-1"]
        assert both["stray"] and both["route"] == "tmux", both
        assert f"both its tmux route and a protocol host (pid {beside})" in both["why"], both
        moved = rows["Agent-2"]
        assert moved["stray"] and moved["route"] == "protocol", moved
        assert "tmux swarm-Agent-2 on tmux server" in moved["why"], moved
        assert f"tmux -S {rig.socket} kill-session -t swarm-Agent-2" in moved["why"], moved
        stray = rows["Ghost"]
        assert (stray["route"], stray["session"], stray["stray"]) == ("tmux", "swarm-Ghost", True)
        assert "its agent is not in the agents file" in stray["why"], stray
        host = rows["Gone"]
        assert (host["route"], host["pid"], host["stray"]) == ("protocol", hello, True)
        assert f"kill {hello} ends its host" in host["why"], host
        text = rig.swarm("desktop", "status", "--headless").stdout
        assert "stray: tmux swarm-Ghost" in text and "Gone" in text, text
    finally:
        asyncio.run(launch.stop(rig.home, "Gone"))
        asyncio.run(launch.stop(rig.home, "Agent-1"))


def _host(rig: DesktopRig, agent: str, folder: Path) -> int:
    """A protocol host of ``agent`` in ``rig``'s home (as ``desktop up --protocol`` starts
    it, the hostile ACP agent under it); its pid."""
    with warnings.catch_warnings():  # the host outlives its Popen, as after desktop up
        warnings.simplefilter("ignore", ResourceWarning)
        hello = asyncio.run(launch.start(rig.home, agent, [sys.executable, str(AGENT_SCRIPT)],
                                         folder, dict(os.environ), wait_s=30))  # fmt: skip
        gc.collect()
    assert hello.pid is not None, hello
    return hello.pid


def test_a_sandbox_that_would_show_the_tmux_socket_is_refused(rigs: list[DesktopRig]) -> None:
    """A tmux client reaching the server types into every pane outside the sandbox: a
    ``tmux_socket`` inside what the sandbox shows (its worktree) is refused, nothing started."""
    if shutil.which("bwrap") is None:
        skip_or_fail("bubblewrap is not installed (apt-get install bubblewrap)")
    rig = rigs[0]
    inside = rig.workspaces["Agent-1"] / "tmux.sock"
    text = rig.config.read_text(encoding="utf-8").replace(
        'id = "Agent-1"\n',
        f'id = "Agent-1"\nsandbox = true\ntmux = "swarm-Agent-1:0"\ntmux_socket = "{inside}"\n',
    )
    rig.config.write_text(text, encoding="utf-8")
    done = rig.swarm("desktop", "up", "--headless", "--agents", "1")
    assert done.returncode != 0
    assert f"its tmux socket {inside} is inside {rig.workspaces['Agent-1']}" in done.stderr
    assert not inside.exists()


def test_a_home_too_long_for_a_socket_gets_a_short_one_of_its_own(tmp_path: Path) -> None:
    long_home = tmp_path / ("h" * 60) / ("o" * 60)
    tmux_tmp = Path(tempfile.mkdtemp(prefix="tm-", dir="/tmp"))  # short, as tmux's own is
    env = {"TMUX_TMPDIR": str(tmux_tmp)}
    socket = tmux_sessions.home_socket(long_home, env)
    other = tmux_sessions.home_socket(long_home.parent / "other", env)
    assert len(socket) <= tmux_sessions.SOCKET_MAX and socket != other
    assert socket.startswith(str(tmux_tmp / f"tmux-{os.getuid()}" / "swarm-"))
    # a TMUX_TMPDIR too long itself: /tmp's folder, as short as it can be
    deep = tmux_sessions.home_socket(long_home, {"TMUX_TMPDIR": str(long_home)})
    assert deep.startswith(f"/tmp/tmux-{os.getuid()}/swarm-") and deep.endswith(socket[-16:])
    server = tmux_sessions.Server(socket, {**os.environ, **env})
    try:
        tmux_sessions.start(server, "swarm-A", "sleep 60", tmp_path, {"SWARM_HOME": str(long_home)})
        assert [s.name for s in tmux_sessions.home_sessions([server], long_home)] == ["swarm-A"]
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(tmux_tmp, ignore_errors=True)


def _delivery(rig: DesktopRig, agent: str, delivery: str) -> None:
    """``delivery = ...`` of ``agent`` in the agents file, as a person edits it."""
    text = rig.config.read_text(encoding="utf-8")
    head, _, rest = text.partition(f'id = "{agent}"\n')
    lines = [line for line in rest.split("\n[", 1)[0].splitlines() if line.startswith("delivery")]
    body = rest.replace(lines[0] + "\n", "", 1) if lines else rest
    rig.config.write_text(f'{head}id = "{agent}"\ndelivery = "{delivery}"\n{body}', "utf-8")


def _tmux_panes(rig: DesktopRig) -> None:
    """Each agent's ``tmux = "swarm-<agent>:0"``, no ``tmux_socket``: as an older swarm wrote."""
    text = rig.config.read_text(encoding="utf-8")
    for name in rig.names:
        text = text.replace(f'id = "{name}"\n', f'id = "{name}"\ntmux = "swarm-{name}:0"\n')
    rig.config.write_text(text, encoding="utf-8")


def test_a_socket_folder_others_may_enter_is_refused_where_swarm_chose_it(
    rigs: list[DesktopRig], tmp_path: Path
) -> None:
    """The home's own socket's folder must be the person's alone (a socket there hands the
    panes to whoever reaches it); a ``tmux_socket`` the agents file names is where its
    person put it (``/tmp`` itself, shared by everyone, too)."""
    rig = rigs[0]
    folder = Path(rig.socket).parent
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    refused = rig.swarm("desktop", "up", "--headless", "--agents", "1")
    assert refused.returncode != 0
    assert f"the tmux socket's folder {folder} is not yours alone" in refused.stderr
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o1777)  # as /tmp
    named = shared / "team.sock"
    text = rig.config.read_text(encoding="utf-8").replace(
        'id = "Agent-1"\n', f'id = "Agent-1"\ntmux = "swarm-Agent-1:0"\ntmux_socket = "{named}"\n'
    )
    rig.config.write_text(text, encoding="utf-8")
    rows, _ = up_said(rig, "--agents", "1")  # run twice: the named socket's session kept
    assert rows["Agent-1"]["tmux_socket"] == str(named)
    rig.swarm("desktop", "down", "--headless")
