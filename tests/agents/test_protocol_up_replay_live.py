"""A seam of the protocol route replayed as a user meets it: ``swarm desktop up --protocol``
run again while ``swarm run`` runs, after the agent's host was killed. Each real CLI (Claude
Code over stream-json, Codex through codex-acp, Gemini CLI and opencode over ACP, under
swarm's host, against localmodel; each started once for the module), the real coordinator
process (``swarm run --no-discord``), every step a ``swarm`` command; the model server's
record says how many times each task's prompt reached the model.

What the docs promise (docs/desktop.md, "when it starts an agent's CLI anew"): a task whose
prompt was held while the host was gone reaches the new session once, and is not handed back;
a task whose prompt reached the session that ended is handed back at once, no attempt used,
and reaches the new session once more (its second and last copy). Nothing is withdrawn.
Then ``swarm run`` is killed twice (SIGKILL: once while a task's turn runs, with a task added
while it is down; once just after a prompt was taken) and started again: each of those
prompts reaches the model once. At the end ``desktop status`` and ``doctor`` are right about
the host, ``doctor`` finds no problem, and "Needs you" is empty: swarm made no chore.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.agent_state import AgentState
from core.agents import _signals as agent_signals
from core.coordinator.home_lock import running_coordinator
from core.hosts import running
from core.service.swarm import SwarmService
from tests import cli_zygote
from tests.agents.deliveries import MAIN_PATHS, requests_with
from tests.agents.launch import SETUPS
from tests.agents.live import LocalModel, offers_tools, require_binary
from tests.agents.test_protocol_live import QUIETING, Rig, started, work_folder
from tests.cli_zygote import Zygote
from tests.helpers import ROOT

pytestmark = pytest.mark.xdist_group("protocol-live")
AGENT = "A"
SCRIPT = 'default = [{ text = "localmodel default answer" }]\n'
WHY = "swarm desktop up started a new session of its agent"


@pytest.fixture(scope="module", params=["claude-code", "codex", "gemini", "opencode"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """The CLI started by ``swarm desktop up --protocol`` as a user starts it."""
    cli = request.param
    binary = require_binary(cli)
    root = tmp_path_factory.mktemp(f"up-replay-{cli}").resolve()
    work = work_folder(root)
    model = LocalModel(root, SCRIPT)
    setup = SETUPS[cli](binary, root / "home", work, model.url)
    env = {k: v for k, v in setup.env.items() if k not in QUIETING}
    with started(cli, root, model, " ".join(setup.argv), env) as made:
        yield made


def swarm(rig: Rig, *args: str, agent: bool = False) -> str:
    """``swarm ARGS`` typed by the person in a terminal of their own (``agent``: by A in its
    workspace, as its terminal has ``SWARM_AGENT``); its output. Run as ``rig.swarm`` runs
    it: forked from this process's CLI zygote (``tests/cli_zygote.py``), the one that ran
    the rig's ``desktop up``, not a fresh Python importing swarm."""
    env = {**rig.env, "SWARM_AGENT": AGENT} if agent else rig.env
    cwd = rig.work if agent else rig.root
    ran = cli_zygote.run(list(args), env, cwd, 240)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout


class Forked:
    """``swarm run`` forked from a zygote (``tests/cli_zygote.py``), waited for by a thread:
    as much of a ``Popen`` as the test uses (its pid: the zygote's child)."""

    def __init__(self, zygote: Zygote, env: dict[str, str], cwd: Path) -> None:
        self.zygote = zygote
        self.ran: list[tuple[int, str, str] | BaseException | None] = []
        self.thread = threading.Thread(target=self._run, args=(env, cwd), daemon=True)
        self.thread.start()
        children = Path(f"/proc/{zygote.process.pid}/task/{zygote.process.pid}/children")
        deadline = time.monotonic() + 30
        while not (forked := children.read_text(encoding="ascii").split()):
            assert self.poll() is None and time.monotonic() < deadline, self.said()
            time.sleep(0.01)
        self.pid = int(forked[0])

    def _run(self, env: dict[str, str], cwd: Path) -> None:
        try:
            self.ran.append(self.zygote.run(["run", "--no-discord"], env, cwd, 900))
        except BaseException as exc:  # (said by poll, in the test's thread)
            self.ran.append(exc)

    def poll(self) -> int | None:
        if self.thread.is_alive():
            return None
        ran = self.ran[0] if self.ran else None
        assert isinstance(ran, tuple), f"swarm run's zygote gave no exit status: {ran!r}"
        return ran[0]

    def said(self) -> str:
        """What it wrote so far (its stdout and stderr: the zygote's files of the run)."""
        return "".join(path.read_text(encoding="utf-8", errors="replace")
                       for path in (self.zygote.folder / "out", self.zygote.folder / "err")
                       if path.exists())  # fmt: skip

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int | None:
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise subprocess.TimeoutExpired("swarm run", timeout or 0)
        return self.poll()


@pytest.fixture(scope="module")
def run_zygote() -> Iterator[list[Zygote]]:
    """The zygote ``swarm run`` is forked from (one a module, started at the first start:
    each ``swarm run`` a fork of it, not a fresh Python importing swarm); not the one the
    short commands run on, which a running ``swarm run`` would keep busy."""
    made: list[Zygote] = []
    yield made
    for zygote in made:
        zygote.close()


@contextlib.contextmanager
def coordinator(rig: Rig, zygotes: list[Zygote]) -> Iterator[Forked]:
    """``swarm run --no-discord`` in a process of its own (no dashboard: its default port
    may be another swarm's), once it holds the home (as ``swarm doctor`` sees it), stopped
    with Ctrl+C after, unless the test killed it."""
    env = {k: v for k, v in rig.env.items() if k != "DISPLAY"} | {"SWARM_WEB": "off"}
    if not zygotes or not zygotes[0].fits(env):
        zygotes.insert(0, Zygote(ROOT, env))
    proc = Forked(zygotes[0], env, rig.root)
    try:
        deadline = time.monotonic() + 60
        while (running_coordinator(rig.home) or (None,))[0] != proc.pid:
            assert proc.poll() is None and time.monotonic() < deadline, proc.said()
            time.sleep(0.1)
        yield proc
        assert proc.poll() in (None, -signal.SIGKILL), proc.said()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def until(check: Callable[[], Awaitable[Any]], within: float = 180.0) -> Any:
    """``check()``'s value once it holds (read every 0.05 s)."""
    deadline = time.monotonic() + within
    while not (found := await check()):
        assert time.monotonic() < deadline, f"not within {within:g} s"
        await asyncio.sleep(0.05)
    return found


def add(rig: Rig, word: str) -> tuple[str, str]:
    """``swarm task add`` of a task for A whose prompt holds a marker of its own: its ref and
    the marker."""
    marker = f"{word}-{uuid.uuid4().hex[:8]}"
    added = swarm(rig, "task", "add", f"replay {marker}", "--details", f"{marker} say hello",
                  "--agent", AGENT, "--json")  # fmt: skip
    return str(json.loads(added)["id"]), marker


def copies(rig: Rig, marker: str) -> list[dict[str, Any]]:
    """The agent's requests to the model (its conversation's: tools offered) whose latest
    prompt holds ``marker``: each a copy of the prompt taken."""
    found = requests_with(rig.model, MAIN_PATHS[rig.cli], marker)
    return [r for r in found if offers_tools(r)]


async def state(service: SwarmService) -> AgentState:
    return (await service.store.read(agent_signals.get_state, AGENT)).state


async def turns(service: SwarmService, ref: str) -> int:
    """How many of the task's turns ended (``agent.turn`` events)."""
    task = await service.tasks.get(ref)
    events = await service.history.events(task=task.id, limit=1000)
    return sum(e.kind == "agent.turn" for e in events)


async def kill_host(rig: Rig, service: SwarmService) -> float:
    """A's host and its CLI killed (SIGKILL); when, once ``swarm run`` reads A offline."""
    pid = running.host_pid(rig.home, AGENT)
    assert pid is not None
    killed = time.time()
    os.killpg(pid, signal.SIGKILL)
    await until(lambda: _is(service, AgentState.OFFLINE))
    return killed


async def _is(service: SwarmService, wanted: AgentState) -> bool:
    return await state(service) is wanted


def up_again(rig: Rig) -> str:
    """``swarm desktop up --protocol`` typed again: it starts A's host anew; what it said."""
    said = swarm(rig, "desktop", "up", "--protocol")
    assert f"{AGENT} " in said and "started" in said, said
    return said


async def done_after_prompt(rig: Rig, service: SwarmService, ref: str, marker: str, n: int) -> None:
    """Once the model had the task's prompt ``n`` times and a turn of the task ended after
    the ``n``-th, A reports it done from its terminal. Turns are not counted: a turn of the
    nudge swarm sends when a turn ends without a report is the task's too, and would let the
    report come while the task is back in the queue."""
    await until(lambda: _turn_after_copy(rig, service, ref, marker, n))
    swarm(rig, "task", "done", ref, "--note", "replayed", agent=True)


async def _turn_after_copy(rig: Rig, service: SwarmService, ref: str, marker: str, n: int) -> bool:
    found = copies(rig, marker)
    if len(found) < n:
        return False
    task = await service.tasks.get(ref)
    events = await service.history.events(task=task.id, limit=1000)
    return any(e.kind == "agent.turn" and e.ts >= found[n - 1]["at"] for e in events)


async def _turns_at_least(service: SwarmService, ref: str, n: int) -> bool:
    return await turns(service, ref) >= n


def kill_coordinator(run: Forked) -> None:
    """``swarm run`` killed (SIGKILL: a crash, nothing said to anyone)."""
    run.kill()
    run.wait(timeout=30)


async def taken(rig: Rig, marker: str) -> None:
    """Once the model has the task's prompt (its turn runs)."""
    await until(lambda: _taken(rig, marker))


async def _taken(rig: Rig, marker: str) -> bool:
    return bool(copies(rig, marker))


def doctor_says(rig: Rig) -> str:
    """What ``swarm doctor --no-discord`` prints; it exits 0 (a healthy headless fleet)."""
    return swarm(rig, "doctor", "--no-discord", "--timeout", "1")


async def needs_you_settled(rig: Rig, within: float = 60.0) -> list[Any]:
    """ "Needs you" (``swarm inbox --json``) once empty, else as it stands after ``within``
    seconds: the watch clears an ``unreported`` alert of a task reported since at its next
    look at the agent, not at the report."""
    deadline = time.monotonic() + within
    while found := json.loads(swarm(rig, "inbox", "--json")):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)
    return list(found)


def shown(rig: Rig, ref: str) -> dict[str, Any]:
    """``swarm task show REF --json``."""
    found: dict[str, Any] = json.loads(swarm(rig, "task", "show", ref, "--json"))
    return found


@pytest.mark.timeout(900)
async def test_desktop_up_beside_swarm_run_sends_each_prompt_once_per_session(
    rig: Rig, run_zygote: list[Zygote]
) -> None:
    service = await SwarmService.open(rig.settings)  # read only: the test's eyes on the store
    try:
        with coordinator(rig, run_zygote) as run:
            await until(lambda: _is(service, AgentState.IDLE))
            # 1. the host killed while A is free; a task added for A waits for it (its prompt
            # held), then up starts a new session while swarm run runs
            await kill_host(rig, service)
            held, held_marker = add(rig, "held")
            first_up = up_again(rig)
            await done_after_prompt(rig, service, held, held_marker, 1)
            # 2. a task's prompt reached the session, whose host is killed with the task
            # still A's; a third task waits behind it
            reached, reached_marker = add(rig, "reached")
            await until(lambda: _turns_at_least(service, reached, 1))
            behind, behind_marker = add(rig, "behind")
            killed = await kill_host(rig, service)
            second_up = up_again(rig)
            await done_after_prompt(rig, service, reached, reached_marker, 2)
            await done_after_prompt(rig, service, behind, behind_marker, 1)
            # 3. swarm run killed while a task's turn runs
            during, during_marker = add(rig, "during")
            await taken(rig, during_marker)
            kill_coordinator(run)
        # ... a task added while no swarm run runs; swarm run started again
        down, down_marker = add(rig, "down")
        with coordinator(rig, run_zygote) as run:
            await done_after_prompt(rig, service, during, during_marker, 1)
            await done_after_prompt(rig, service, down, down_marker, 1)
            # 4. swarm run killed a second time, a task's prompt just taken
            again, again_marker = add(rig, "again")
            await taken(rig, again_marker)
            kill_coordinator(run)
        with coordinator(rig, run_zygote):
            await done_after_prompt(rig, service, again, again_marker, 1)
            await until(lambda: _is(service, AgentState.IDLE))
            status = json.loads(swarm(rig, "desktop", "status", "--json"))
            doctor = doctor_says(rig)
            needs_you = await needs_you_settled(rig)
    finally:
        await service.close()
    markers = ((held, held_marker), (reached, reached_marker), (behind, behind_marker),
               (during, during_marker), (down, down_marker), (again, again_marker))  # fmt: skip
    counted = {ref: copies(rig, marker) for ref, marker in markers}
    print("copies per task:", {ref: len(found) for ref, found in counted.items()})
    print("first up:", first_up, "second up:", second_up, sep="\n")
    once = [held, behind, during, down, again]
    assert [len(counted[ref]) for ref in once] == [1] * len(once), counted
    # the one that reached the ended session: once there, once in the new one
    assert [r["at"] < killed for r in counted[reached]] == [True, False], counted[reached]
    assert "held" not in first_up, first_up  # nothing of A's had reached the ended session
    assert f"held {reached}: back in the queue now ({WHY}" in second_up, second_up
    pid = running.host_pid(rig.home, AGENT)
    row = next(r for r in status if r["agent"] == AGENT)
    assert (row["route"], row["running"], row["alive"], row["pid"]) == (
        "protocol", True, True, pid
    ), row  # fmt: skip
    assert row["session"] and row["state"] == "idle", row
    assert f"{AGENT}: host pid {pid}, agent pid" in doctor, doctor
    assert "session open" in doctor and "no problems found" in doctor, doctor
    assert needs_you == [], needs_you  # nothing in "Needs you" that swarm made itself
    for ref, _ in markers:
        task = shown(rig, ref)
        assert (task["status"], task["attempts"]) == ("done", 1), task
        events = task["events"]
        assert all(e["kind"] != "task.withdrawn" for e in events), events
        assigned = [e["data"]["attempt"] for e in events if e["kind"] == "task.assigned"]
        assert set(assigned) == {1}, events  # no attempt used, whatever went back
        handed = [e for e in events if e["kind"] == "task.requeued" and WHY in e["text"]]
        assert len(handed) == (ref == reached), events
