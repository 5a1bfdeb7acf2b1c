"""Stop means stop (issue 64, item 1), with a real CLI under swarm's host against localmodel:
a protocol agent in a long turn whose task is cancelled, or taken back, ends its turn at once
(stop reason ``cancelled``, long before the model's stream would end), the notice goes after
that end, and the message held meanwhile and its next prompt follow; ``swarm agents stop``
ends a turn and leaves the task as it was. Claude Code over stream-json, Gemini CLI and
opencode over ACP, Codex through codex-acp, each started once for the module by ``swarm
desktop up --protocol``; Claude Code and Gemini CLI through swarm's gateway (``gateway =
true``), as a sandboxed agent reaches its model: a stopped turn's usage is the gateway's, and
the difference from the CLI's own report is no alert (issue 79).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from core.agent_state import AgentState
from core.agents import list_alerts
from core.coordinator.scheduler import Scheduler
from core.costs import wire
from core.costs.usage_place import usage_file
from core.hosts import client
from core.models import Task, TaskSpec
from core.watch import wire_usage
from tests import cli_zygote
from tests.agents.launch import SETUPS
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_protocol_live import (
    QUIETING,
    Rig,
    Swarm,
    attached,
    started,
    work_folder,
)
from tests.agents.test_protocol_live import swarm as swarm  # the same coordinator parts

pytestmark = pytest.mark.xdist_group("protocol-live")
AGENT = "A"
STREAM_S = 90.0  # the slow answer's stream: 90 chunks, one a second
SILENT_S = 60  # the model's silence before a silent turn's first byte
SCRIPT = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "say hello"
text = "hello from localmodel"

[[turns]]
match = "work for a long while"
[[turns.steps]]
text = "{"x" * int(STREAM_S)}"
chunk_chars = 1
chunk_delay = 1.0

[[turns]]
match = "think in silence"
[[turns.steps]]
text = "an answer after a long silence"
delay = {SILENT_S}
"""
ENDED_WITHIN_S = 20.0  # a cancelled turn's end, from the cancel: well under the stream
SILENT_ENDED_WITHIN_S = 10.0  # a silent turn's end, from its stop (1 s on an idle machine)
GATEWAY = ("claude-code", "gemini")  # these reach localmodel through swarm's gateway


@pytest.fixture(scope="module", params=["claude-code", "gemini", "codex", "opencode"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """The CLI started by ``swarm desktop up --protocol`` as a user starts it."""
    cli = str(request.param)
    binary = require_binary(cli)
    root = tmp_path_factory.mktemp(f"stop-{cli}").resolve()
    work = work_folder(root)
    model = LocalModel(root, SCRIPT)
    setup = SETUPS[cli](binary, root / "home", work, model.url)
    env = {k: v for k, v in setup.env.items() if k not in QUIETING}
    with started(cli, root, model, " ".join(setup.argv), env, gateway=cli in GATEWAY) as made:
        yield made


async def run_until(swarm: Swarm, check: Any, within: float) -> Any:
    """The scheduler's bursts and the watch, as ``swarm run`` turns them, until ``check()``
    holds; its value."""
    scheduler = Scheduler(swarm.service, swarm.deliverer)
    deadline = time.monotonic() + within
    while not (found := await check()):
        assert time.monotonic() < deadline, f"not within {within:g} s"
        await swarm.watch.fire()
        await scheduler.run_burst()
        await asyncio.sleep(0.1)
    return found


async def in_a_long_turn(rig: Rig, swarm: Swarm, title: str) -> Task:
    """A task for A whose turn streams for ``STREAM_S`` s, under way (swarm has its word)."""
    await idle(swarm)
    task = await swarm.service.tasks.create(
        TaskSpec(title, f"work for a long while ({title})", agent=AGENT), "me"
    )

    async def working() -> bool:
        return (await swarm.state()).state is AgentState.WORKING

    async def asked() -> bool:  # this task's request, not an earlier test's (a wait that
        # lets swarm's watch and scheduler run: a notice's turn may have to end first)
        return any(task.details in str(r.get("prompt") or "") for r in rig.model.requests())

    await run_until(swarm, working, 60)
    await run_until(swarm, asked, 60)
    return task


async def idle(swarm: Swarm) -> None:
    """Until swarm reads A idle (a turn of an earlier test ended)."""

    async def now_idle() -> bool:
        return (await swarm.state()).state is AgentState.IDLE

    await run_until(swarm, now_idle, 60)


async def turn_of(swarm: Swarm, task: Task) -> dict[str, Any] | None:
    """The end of the turn of the task's own prompt as swarm recorded it (its ``agent.turn``
    event; not a turn of another parcel of its delivery, an onboarding or a reset, which may
    end first on the same task)."""
    deliveries = await swarm.service.messages.deliveries(None, limit=200)
    prompts = {d.id for d in deliveries if task.details in d.text}
    events = await swarm.service.history.events(0, 10_000)
    found = [e.data for e in events if e.kind == "agent.turn" and e.task_id == task.id
             and (e.data or {}).get("delivery") in prompts]  # fmt: skip
    return found[0] if found else None


def prompts(rig: Rig) -> list[str]:
    """The prompts A's model was asked."""
    return [str(r.get("prompt") or "") for r in rig.model.requests()]


async def delivered_after(swarm: Swarm, text: str) -> bool:
    """Whether the message to A holding ``text`` was delivered and its turn ended."""
    deliveries = await swarm.service.messages.deliveries(None, limit=50)
    ids = [d.id for d in deliveries if text in d.text and d.state.value == "delivered"]
    return bool(ids) and any(t.get("delivery") in ids for t in await swarm.turns())


@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", ["cancel", "requeue"])
async def test_a_cancelled_or_taken_back_task_ends_the_running_turn_at_once(
    rig: Rig, swarm: Swarm, how: str
) -> None:
    task = await in_a_long_turn(rig, swarm, f"long {how}")
    await swarm.service.messages.send(AGENT, f"say hello after the {how}", "me")  # held
    asked = time.monotonic()
    await getattr(swarm.service.tasks, how)(task.ref, "me")
    if how == "requeue":  # back in the queue, not to be A's again: cancelled there
        await swarm.service.tasks.cancel(task.ref, "me")
    turn = await run_until(swarm, lambda: turn_of(swarm, task), STREAM_S)
    ended_s = time.monotonic() - asked
    assert turn["stop_reason"] == "cancelled", turn
    assert ended_s < ENDED_WITHIN_S, ended_s
    # the message held meanwhile went once the turn ended, the notice at its head: no
    # model request of the notice's own
    await run_until(swarm, lambda: delivered_after(swarm, f"say hello after the {how}"), 60)
    held = [p for p in prompts(rig) if f"say hello after the {how}" in p]
    notice = f"{task.ref} is no longer yours"
    assert held and all(notice in p for p in held), held
    assert [p for p in prompts(rig) if notice in p and p not in held] == []
    nxt = await swarm.service.tasks.create(TaskSpec("next", "say hello", agent=AGENT), "me")
    await run_until(swarm, lambda: turn_of(swarm, nxt), 60)
    assert time.monotonic() - asked < STREAM_S / 2
    await swarm.service.tasks.complete(nxt.ref, AGENT)


def person(rig: Rig, *args: str) -> subprocess.CompletedProcess[str]:
    """``swarm ARGS`` run by a person (in a terminal of their own, not in A's folder), as
    ``rig.swarm`` runs it (``tests/cli_zygote.py``)."""
    return cli_zygote.run(list(args), rig.env, rig.root, 60)


@pytest.mark.timeout(300)
async def test_swarm_agents_stop_ends_the_turn_and_leaves_the_task(rig: Rig, swarm: Swarm) -> None:
    task = await in_a_long_turn(rig, swarm, "long stop")
    await swarm.service.messages.send(AGENT, "say hello after the stop", "me")  # held
    asked = time.monotonic()
    stop = person(rig, "agents", "stop", AGENT)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert stop.stdout.strip() == f"{AGENT}: its turn was stopped (the host's cancel)"
    turn = await run_until(swarm, lambda: turn_of(swarm, task), STREAM_S)
    assert turn["stop_reason"] == "cancelled", turn
    assert time.monotonic() - asked < ENDED_WITHIN_S
    await run_until(swarm, lambda: delivered_after(swarm, "say hello after the stop"), 60)
    assert time.monotonic() - asked < STREAM_S / 2  # not behind the stopped turn
    kept = await swarm.service.tasks.get(task.ref)
    assert (kept.status.value, kept.agent) == ("assigned", AGENT)  # the task as it was
    events = json.loads(person(rig, "events", "--json", "--kind", "agent.stopped").stdout)
    assert [(e["agent"], e["actor"], e["text"]) for e in events] == [
        (AGENT, "cli", f"{AGENT}'s turn stopped by cli (the host's cancel)")
    ]
    assert not (await client.hello(rig.home, AGENT)).busy
    again = person(rig, "agents", "stop", AGENT)  # nothing runs now: said, nothing recorded
    assert (again.returncode, again.stdout.strip()) == (
        0,
        f"{AGENT}: no turn was running (nothing to stop)",
    )
    await swarm.service.tasks.cancel(task.ref, "me")


# the two refusals below come before anything reaches an agent's route or CLI (the agent's
# name resolved, the terminal's trust checked): one CLI's rig shows them for all
ONE_RIG = pytest.mark.parametrize("rig", ["claude-code"], indirect=True)


@ONE_RIG
def test_swarm_agents_stop_refuses_an_unknown_agent_in_one_line(rig: Rig) -> None:
    stop = person(rig, "agents", "stop", "Nobody")
    assert stop.returncode != 0
    assert len(stop.stderr.strip().splitlines()) == 1, stop.stderr
    assert "Nobody" in stop.stderr


@ONE_RIG
def test_swarm_agents_stop_from_the_agents_own_folder_is_refused(rig: Rig) -> None:
    stop = rig.swarm("agents", "stop", AGENT)  # run in A's workspace: A's own terminal
    assert stop.returncode != 0 and "a person's to decide" in stop.stderr, stop.stderr


@pytest.mark.timeout(300)
async def test_ctrl_c_in_swarm_attach_stops_the_turn_and_attach_goes_on(
    rig: Rig, swarm: Swarm
) -> None:
    """Issue 64, item 1: Ctrl+C in ``swarm attach`` of a protocol agent stops its running
    turn (the task kept) and leaves attach running; Ctrl+D then leaves it (before: Ctrl+C
    ended attach, the turn ran on)."""
    task = await in_a_long_turn(rig, swarm, "long attach")
    attach = attached(rig)
    assert attach.stdin is not None and attach.stdout is not None
    shown: list[str] = []
    reader = threading.Thread(target=lambda: shown.extend(attach.stdout or ()), daemon=True)
    reader.start()
    try:
        while not shown:  # attached: its first line says so
            assert attach.poll() is None, shown
            await asyncio.sleep(0.1)
        asked = time.monotonic()
        attach.send_signal(signal.SIGINT)
        turn = await run_until(swarm, lambda: turn_of(swarm, task), STREAM_S)
        assert turn["stop_reason"] == "cancelled" and time.monotonic() - asked < ENDED_WITHIN_S, (
            shown
        )
        while "^C its turn was stopped" not in "".join(shown):
            assert attach.poll() is None, shown  # Ctrl+C did not end attach
            await asyncio.sleep(0.1)
    finally:
        attach.stdin.close()  # Ctrl+D
        attach.wait(timeout=30)
        reader.join(timeout=10)
        attach.stdout.close()
    assert attach.returncode == 0, shown
    kept = await swarm.service.tasks.get(task.ref)
    assert (kept.status.value, kept.agent) == ("assigned", AGENT)
    await swarm.service.tasks.cancel(task.ref, "me")


@contextlib.asynccontextmanager
async def swarm_running(swarm: Swarm) -> AsyncIterator[None]:
    """``swarm run``'s loop in the background: the scheduler's bursts, and the watch beside
    them (a delivery the host has not answered yet holds up neither)."""

    async def bursts() -> None:
        scheduler = Scheduler(swarm.service, swarm.deliverer)
        while True:
            await scheduler.run_burst()
            await asyncio.sleep(0.05)

    async def watching() -> None:
        while True:
            await swarm.watch.fire()
            await asyncio.sleep(0.05)

    async with asyncio.TaskGroup() as group:
        loops = [group.create_task(bursts()), group.create_task(watching())]
        try:
            yield
        finally:
            for loop in loops:
                loop.cancel()


async def until(check: Any, within: float) -> Any:
    """``check()``'s value once it holds (swarm's loop runs meanwhile)."""
    deadline = time.monotonic() + within
    while not (found := await check()):
        assert time.monotonic() < deadline, f"not within {within:g} s"
        await asyncio.sleep(0.02)
    return found


@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", ["stop", "cancel"])
async def test_a_turn_whose_model_has_said_nothing_yet_ends_at_its_stop(
    rig: Rig, swarm: Swarm, how: str
) -> None:
    """Issue 79, item 2: a stop (``swarm agents stop``, or the task's cancel: its withdrawal)
    that comes before the model has streamed anything ends the turn at once, not once the
    host's window for the agent to take the prompt (``ACCEPT_S``) or the model's silence
    is over; the agent reads idle soon after."""
    await idle(swarm)
    async with swarm_running(swarm):
        title = f"silent {how}"
        task = await swarm.service.tasks.create(
            TaskSpec(title, f"think in silence ({title})", agent=AGENT), "me"
        )

        async def asked() -> bool:
            return any(task.details in str(r.get("prompt") or "") for r in rig.model.requests())

        # the model silent from here on; stopped at once, within the host's window for the
        # agent to take the prompt (ACCEPT_S) unless the CLI took that long to ask
        await until(asked, 60)
        asked_at = time.monotonic()
        if how == "stop":
            stop = await asyncio.to_thread(person, rig, "agents", "stop", AGENT)
            assert stop.returncode == 0, stop.stdout + stop.stderr
        else:
            await swarm.service.tasks.cancel(task.ref, "me")
        said_at = time.monotonic()
        turn = await until(lambda: turn_of(swarm, task), SILENT_S)
        ended_at = time.monotonic()

        async def now_idle() -> bool:
            return (await swarm.state()).state is AgentState.IDLE

        await until(now_idle, SILENT_S)
        idle_at = time.monotonic()
        noticed = [p for p in prompts(rig) if f"{task.ref} is no longer yours" in p]
        kept = await swarm.service.tasks.get(task.ref)
        if how == "stop":
            await swarm.service.tasks.cancel(task.ref, "me")
        # the agent takes its next prompt (the stopped turn's late answer, if any, is no
        # answer to it)
        nxt = await swarm.service.tasks.create(
            TaskSpec(f"after the silent {how}", f"say hello (after {title})", agent=AGENT), "me"
        )
        after = await until(lambda: turn_of(swarm, nxt), 90)
        await swarm.service.tasks.complete(nxt.ref, AGENT)
    print(
        f"{rig.cli} {how}: the stop took {said_at - asked_at:.2f} s, the turn's end recorded "
        f"{ended_at - said_at:.2f} s after it, idle {idle_at - said_at:.2f} s after it "
        f"({turn.get('meta')})"
    )
    assert turn["stop_reason"] == "cancelled", turn
    assert ended_at - asked_at < SILENT_ENDED_WITHIN_S, ended_at - asked_at
    if how == "stop":
        assert (kept.status.value, kept.agent) == ("assigned", AGENT)
    assert after["stop_reason"] == "end_turn", after
    assert noticed == [], noticed  # the notice asked no model of its own (a paid turn)
    if how == "cancel":  # the next prompt told it
        told = [p for p in prompts(rig) if f"say hello (after {title})" in p]
        assert told and all(f"{task.ref} is no longer yours" in p for p in told), told


class Kept(logging.Handler):
    """The messages logged to it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record.getMessage())


async def answers_recorded(rig: Rig, since: float) -> int:
    """How many answers A's gateway recorded of the requests since ``since`` (Unix
    seconds), once it recorded one for each such request its model had (the gateway writes
    an answer's record as the answer ends: a stopped stream's at the stop)."""
    path, deadline = usage_file(rig.home, AGENT), time.monotonic() + 60
    while True:
        kept = path.read_bytes().splitlines() if path.exists() else []
        count = sum(json.loads(line)["started"] >= since for line in kept)
        asked = sum(r["at"] >= since for r in rig.model.requests())
        if count >= asked:
            return count
        assert time.monotonic() < deadline, (count, asked)
        await asyncio.sleep(0.05)


async def usage_watched(swarm: Swarm) -> None:
    """A few of ``swarm run``'s usage looks: the CLI's reports read, the gateway's records
    booked and compared (``SETTLE_S`` is 0 here: both sides taken as quiet)."""
    for _ in range(10):
        await swarm.until(lambda: asyncio.sleep(0, True))
        await asyncio.sleep(0.1)


async def usage_alerts(swarm: Swarm) -> list[str]:
    alerts = await swarm.service.store.read(list_alerts)
    return [a.text for a in alerts if a.kind == wire_usage.USAGE_DIFFERS]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("rig", GATEWAY, indirect=True)
async def test_a_stopped_turns_usage_is_the_gateways_and_no_alert(
    rig: Rig, swarm: Swarm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 79: ``swarm agents stop`` in a turn whose model streams through swarm's gateway.
    The gateway counted the request the stop cancelled (localmodel told its input), the CLI's
    own report leaves it out: the ledger books the gateway's count, equal to localmodel's,
    and the difference is logged, no "usage differs" alert. A later turn with no stop is
    compared as before, and equal: Gemini CLI's routing request to its small model (0.61.0,
    each prompt), which its session files do not tell, offers no tools, so it is booked and
    not compared (before: a "usage differs" alert every day)."""
    monkeypatch.setattr(wire, "SETTLE_S", 0.0)
    kept, logger = Kept(), logging.getLogger(wire_usage.__name__)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(kept)
    try:
        await idle(swarm)
        await usage_watched(swarm)  # the turns before (cancels and stops): compared
        assert await usage_alerts(swarm) == []
        kept.said.clear()
        since = time.time()  # (a silent turn stopped before may be recorded later)
        task = await in_a_long_turn(rig, swarm, "long metered")
        stop = person(rig, "agents", "stop", AGENT)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        turn = await run_until(swarm, lambda: turn_of(swarm, task), STREAM_S)
        assert turn["stop_reason"] == "cancelled", turn
        # (Gemini CLI's files tell a turn once the next is in)
        await said_hello(rig, swarm, "say hello after the metered stop", since)
        stopped = await usage_alerts(swarm), list(kept.said)
        await said_hello(rig, swarm, "say hello later", since)
        later = await usage_alerts(swarm)
    finally:
        logger.removeHandler(kept)
        logger.setLevel(level)
    print(f"{rig.cli}: {stopped}; later: {later}")
    assert stopped[0] == [], stopped
    said = [line for line in stopped[1] if "a person stopped" in line]
    assert len(said) == 1, stopped  # they differed: the request the stop cancelled
    assert later == [], later
    served = [r["usage"] for r in rig.model.requests() if r["usage"] is not None]
    assert any(task.details in str(r.get("prompt")) and r["usage"] for r in rig.model.requests())
    spent = {s.key: s for s in (await swarm.service.costs.spend())["agent"]}[AGENT]
    assert spent.input + spent.cache_read + spent.cache_write == sum(
        (u["input"] or 0) + (u["cache_read"] or 0) + (u["cache_write"] or 0) for u in served
    ), (spent, served)
    await swarm.service.tasks.cancel(task.ref, "me")


async def said_hello(rig: Rig, swarm: Swarm, text: str, since: float) -> None:
    """``text`` sent to A and answered, then ``swarm run``'s usage looks once its gateway
    recorded the answers since ``since``: its records and its CLI's reports read, and
    compared."""
    await swarm.service.messages.send(AGENT, text, "me")
    await run_until(swarm, lambda: delivered_after(swarm, text), 60)
    await idle(swarm)
    await answers_recorded(rig, since)
    await usage_watched(swarm)
