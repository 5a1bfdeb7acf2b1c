"""The protocol route with the real CLIs (issue 50): each pinned CLI started by ``swarm desktop
up --protocol`` as a user starts it (its command from the agents file's ``[desktop]``
section, its own HOME, none of the environment settings that quiet it), under swarm's host
process, against localmodel; swarm's own deliverer, scheduler, protocol watch and prompt
answering on a real store. Each CLI is started once for the module.

Gemini CLI, opencode and Codex (through codex-acp) speak ACP; Claude Code its stream-json.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automation.protocol.watch import ProtocolWatch
from automation.routes import RoutingDeliverer, build_deliverer
from core.agent_state import AgentState
from core.agents import _signals as agent_signals
from core.agents import _transcript as transcript
from core.agents._alerts import list_alerts
from core.agents._judge import Freshness
from core.agents._service import TranscriptBook
from core.coordinator.jobs import Watcher
from core.coordinator.prompt_keys import PromptKeys
from core.coordinator.scheduler import Scheduler
from core.costs import ledger
from core.dialogs import permissions as prompts
from core.hosts import client, running, wire
from core.models import Task, TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import values
from core.watch.usage_files import UsageFiles
from tests import cli_zygote
from tests.agents.launch import SETUPS, _git
from tests.agents.live import (
    Counted,
    LocalModel,
    check_ledger_is_localmodels,
    offers_tools,
    require_binary,
)
from tests.helpers import ROOT
from tests.watch.conftest import watch_settings

pytestmark = pytest.mark.xdist_group("protocol-live")
AGENT = "A"
# the settings the tmux live tests give Claude Code to keep it quiet: a user has none of them
QUIETING = ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "IS_SANDBOX", "DISABLE_TELEMETRY")
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "say hello"
text = "hello from localmodel"

[[turns]]
match = "make the allowed file"
steps = [{ text = "Creating it.", shell = "touch allowed.txt" }, { text = "allowed file made" }]

[[turns]]
match = "make the refused file"
steps = [{ text = "Creating it.", shell = "touch refused.txt" }, { text = "done asking" }]

[[turns]]
match = "take your time"
steps = [{ text = "slowly, piece by piece", delay = 6 }]

[[turns]]
match = "answer quietly later"
steps = [{ text = "quietly answered", delay = 6 }]  # no update before: not yet taken (let
# go by the test once swarm is down)

[[turns]]
match = "answer in a moment"
steps = [{ text = "a moment later", delay = 3 }]  # longer than swarm's stop (let go after)

[[turns]]
match = "fail once"
steps = [{ fail = 500, times = 1 }, { text = "through after an error" }]

[[turns]]
match = "fail its model once"  # Gemini CLI's: its router's request (to another model) answered
steps = [{ fail = 500, times = 1, model = "3.8-flash" }, { text = "through after an error" }]

[[turns]]
match = "wait for its model's limit"  # Gemini CLI's, as above
steps = [{ rate_limit = true, retry_after = 2, reset_in = 2, times = 1, model = "3.8-flash" },
         { text = "through after the limit" }]

[[turns]]
match = "wait for the limit"
steps = [{ rate_limit = true, retry_after = 2, reset_in = 2, times = 1 },
         { text = "through after the limit" }]

[[turns]]
match = "freeze midway"
[[turns.steps]]
text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"
chunk_chars = 6
chunk_delay = 0.05
stall_after = 3
times = 1

[[turns]]
match = "freeze its answer"  # Gemini CLI's: its router's request (to another model) answered
[[turns.steps]]
text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"
chunk_chars = 6
chunk_delay = 0.05
stall_after = 3
times = 1
model = "3.8-flash"

[[turns]]
match = "count my tokens"
steps = [{ text = "counted", input_tokens = 4321, output_tokens = 87 }]

[[turns]]
match = "spend the quota"
steps = [{ rate_limit = true, quota = "day", model = "3.8-flash", should_retry = false },
         { text = "never" }]
"""
LIMIT_KINDS = ("agent.limited", "agent.limited_in_account", "agent.limit_flapped")
ASKS = ("gemini", "claude-code")  # ask before a shell command at their defaults
IN, OUT = 4321, 87  # the usage localmodel reports for "count my tokens"
# each CLI's side requests (no tools offered), which its turn's usage leaves out: over their
# protocols (measured) Gemini CLI's router before each prompt (a model asked for JSON) and
# opencode's title agent (its system prompt) at a session's first prompt; Claude Code and
# Codex asked for no title there, as they do in tmux (named should they)
SIDE: dict[str, Callable[[dict[str, Any]], bool]] = {
    "claude-code": lambda r: "Write the title" in str(r["prompt"]),
    "codex": lambda r: "single-line task title" in str(r["prompt"]),
    "gemini": lambda r: "JSON asked" in r["outcome"],
    "opencode": lambda r: any("title" in str(m.get("content")).lower()
                              for m in r["body"].get("messages") or []
                              if m.get("role") == "system"),
}  # fmt: skip


@dataclass
class Rig:
    """One CLI under its host: the swarm home, the agents file, its work folder, its model."""

    cli: str
    root: Path
    home: Path
    config: Path
    work: Path
    model: LocalModel
    env: dict[str, str]

    @property
    def settings(self) -> Settings:
        return Settings.from_env({"SWARM_HOME": str(self.home), "SWARM_CONFIG": str(self.config)})

    def swarm(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The ``swarm`` command, run as the user runs it (their environment)."""
        return cli_zygote.run(list(args), self.env, self.work, 240)


@contextlib.contextmanager
def started(
    cli: str,
    root: Path,
    model: LocalModel,
    command: str,
    env: Mapping[str, str],
    agents: Mapping[str, str] | None = None,
    gateway: bool = False,
) -> Iterator[Rig]:
    """``cli`` started by ``swarm desktop up --protocol`` from an agents file whose
    ``[desktop]`` command is the user's ``command``, in ``root/work`` (made before: its setup
    needs it), run with the user's ``env``; its host outlives the command, ended by ``desktop
    down`` (and ``model`` stopped) after. ``agents``: each agent's account (default: A alone,
    of ``test-account``); an agent other than A works in ``root/work-<id>``; ``gateway``:
    each reaches its model through swarm's gateway (``gateway = true``)."""
    work, home, config = root / "work", root / "swarm", root / "agents.toml"
    home.mkdir()
    tables = []
    for agent, account in (agents or {AGENT: "test-account"}).items():
        folder = work if agent == AGENT else root / f"work-{agent}"
        tables.append(
            f'[[agent]]\nid = "{agent}"\nrole = "dev"\nworkspace = "{folder}"\n'
            f'cli = "{cli}"\naccount = "{account}"\n' + ("gateway = true\n" if gateway else "")
        )
    config.write_text(
        "\n".join(tables) + f"\n[desktop]\ncommand = {json.dumps(command)}\n", encoding="utf-8"
    )
    full = {**env, "SWARM_HOME": str(home), "SWARM_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    made = Rig(cli, root, home, config, work, model, full)
    try:
        up = made.swarm("desktop", "up", "--protocol", "--json")
        assert up.returncode == 0, up.stdout + up.stderr
        rows = [(r["agent"], r["action"], r["delivery"]) for r in json.loads(up.stdout)]
        assert rows == [(a, "started", "protocol") for a in agents or [AGENT]], rows
        yield made
    finally:
        made.swarm("desktop", "down", "--headless")
        model.stop()


def work_folder(root: Path) -> Path:
    """``root/work``, a git repository (the agent's workspace)."""
    work = root / "work"
    work.mkdir()
    _git(work)
    return work


@pytest.fixture(scope="module", params=["gemini", "claude-code", "codex", "opencode"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """The CLI started by ``swarm desktop up --protocol`` as a user starts it (none of the
    settings that quiet it)."""
    cli = str(request.param)
    binary = require_binary(cli)
    root = tmp_path_factory.mktemp(f"protocol-{cli}").resolve()
    work = work_folder(root)
    model = LocalModel(root, SCRIPT)
    setup = SETUPS[cli](binary, root / "home", work, model.url)
    env = {k: v for k, v in setup.env.items() if k not in QUIETING}
    with started(cli, root, model, " ".join(setup.argv), env) as made:
        yield made


@pytest.fixture
def asks(rig: Rig) -> Rig:
    """The rig of a CLI that asks before a shell command at its defaults (else skipped,
    before swarm's parts are set up)."""
    if rig.cli not in ASKS:
        pytest.skip(f"{rig.cli} runs the shell command without asking at its defaults")
    return rig


@pytest.fixture
def quota(rig: Rig) -> Rig:
    """Gemini CLI's rig: its spent daily quota is the prompt's error (the others retry)."""
    if rig.cli != "gemini":
        pytest.skip("the quota case is scripted for Gemini's API (the others retry a 429)")
    return rig


@dataclass
class Swarm:
    """swarm's coordinator parts for the rig: the store, the deliverer, the watch, the keys."""

    service: SwarmService
    deliverer: RoutingDeliverer
    watch: ProtocolWatch
    keys: PromptKeys
    usage: UsageFiles | None = None  # the turns' usage from the CLIs' own files

    async def until(self, check: Callable[[], Any], within: float = 60.0) -> Any:
        """Fire the watch (and the keys, and read the usage files) until ``check()``
        holds; its value."""
        deadline = time.monotonic() + within
        while True:
            await self.watch.fire()
            await self.keys.fire()
            if self.usage is not None:
                await self.usage.tick()
            found = await check()
            if found:
                return found
            assert time.monotonic() < deadline, f"not within {within:g} s"
            await asyncio.sleep(0.1)

    async def state(self) -> agent_signals.StateRow:
        return await self.service.store.read(agent_signals.get_state, AGENT)

    async def turns(self) -> list[dict[str, Any]]:
        """The ``agent.turn`` events: each turn's end as swarm recorded it."""
        events = await self.service.history.events(0, 10_000)
        return [e.data or {} for e in events if e.kind == "agent.turn"]

    async def open_prompts(self) -> list[prompts.Prompt]:
        """The agent's open permission prompts ("Needs you")."""
        return list(await self.service.store.read(prompts.open_prompts, AGENT))

    async def reported_unasked(self) -> Task:
        """A task "start the report" delivered; the agent reports its start with swarm's own
        command and its turn ends, with no item for a person on the way (asserted)."""
        task = await self.service.tasks.create(
            TaskSpec("start the report", "start the report", agent=AGENT), "me"
        )
        await Scheduler(self.service, self.deliverer).run_burst()
        asked: list[str] = []

        async def reported() -> bool:
            asked.extend(p.text for p in await self.open_prompts())
            return (await self.service.tasks.get(task.id)).status.value == "in_progress"

        await self.until(reported, within=120)

        async def idle() -> bool:
            asked.extend(p.text for p in await self.open_prompts())
            return (await self.state()).state is AgentState.IDLE

        await self.until(idle, within=120)
        assert asked == []  # its own report: no item for a person
        return task

    async def said_hello(self, model: LocalModel) -> tuple[Task, dict[str, Any]]:
        """A task "say hello" delivered by the scheduler, its prompt seen by ``model`` over
        chat completions, its turn ended (the agent idle by the protocol): the task and
        its ``agent.turn`` (the only one, on that task)."""
        task = await self.service.tasks.create(TaskSpec("say hello", "say hello", agent=AGENT),
                                               "me")  # fmt: skip
        done = await Scheduler(self.service, self.deliverer).run_burst()
        assert done.delivered == 1
        asked = model.wait_request("say hello", timeout=120)
        assert asked["path"].endswith("/chat/completions")

        async def idle() -> Any:
            row = await self.state()
            return row if row.state is AgentState.IDLE and "turn ended" in row.evidence else None

        row = await self.until(idle, within=120)
        assert row.evidence == "protocol: turn ended (end_turn)"
        (turn,) = await self.turns()
        assert turn["stop_reason"] == "end_turn"
        events = await self.service.history.events(0, 10_000)
        assert [e.task_id for e in events if e.kind == "agent.turn"] == [task.id]
        return task, turn


@pytest.fixture
async def swarm(rig: Rig) -> AsyncIterator[Swarm]:
    """swarm on the rig's home, as ``swarm run`` builds it (stopped after the test: the
    host and its agent keep running)."""
    service = await SwarmService.open(rig.settings)
    deliverer = build_deliverer(rig.settings, list(service.agents.values()), service.kill_switch)
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    usage = UsageFiles(service.store)
    await usage.tick()  # the first look: the turns of the tests before are not counted
    made = Swarm(service, deliverer, watch, PromptKeys(service, deliverer, None), usage)
    try:
        yield made
    finally:  # what the test left it with (a restart test opens them anew)
        await made.watch.stop()
        deliverer.close()
        await made.service.close()


def _booked_of(conn: Any, delivery: int) -> list[tuple[Any, ...]]:
    """The ledger's rows of the protocol turns of ``delivery``: input tokens, cost_from."""
    rows = conn.execute(
        "SELECT input_tokens, cost_from FROM turn_usage WHERE ref LIKE $1",
        (f"protocol:{AGENT}:{delivery}:%",),
    ).fetchall()
    return [tuple(values(r)) for r in rows]


async def _prompt_to_idle(swarm: Swarm, text: str) -> int:
    """``text`` sent to A and delivered by the scheduler; the delivery's id, once the
    agent's turn ended."""
    message = await swarm.service.messages.send(AGENT, text, "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    (delivery,) = await swarm.service.messages.deliveries(message)
    assert delivery.state.value == "delivered", delivery

    async def ended() -> bool:
        return any(t.get("delivery") == delivery.id for t in await swarm.turns())

    await swarm.until(ended)
    return int(delivery.id)


@pytest.mark.timeout(240)
async def test_a_task_prompt_is_taken_and_its_turn_ends_as_the_agent_says(
    rig: Rig, swarm: Swarm
) -> None:
    task = await swarm.service.tasks.create(TaskSpec("say hello", "say hello", agent=AGENT), "me")
    done = await Scheduler(swarm.service, swarm.deliverer).run_burst()
    assert done.delivered == 1
    rig.model.wait_request("say hello")  # the model has it: the agent took the prompt

    async def idle() -> Any:
        row = await swarm.state()
        return row if row.state is AgentState.IDLE and "turn ended" in row.evidence else None

    row = await swarm.until(idle)
    assert row.evidence == "protocol: turn ended (end_turn)"
    (turn,) = [t for t in await swarm.turns()]
    assert turn["stop_reason"] == "end_turn"
    events = await swarm.service.history.events(0, 10_000)
    assert [e.task_id for e in events if e.kind == "agent.turn"] == [task.id]
    await swarm.service.tasks.complete(task.ref, AGENT)  # nothing of it lingers for the next
    if rig.cli in ("claude-code", "opencode"):  # they give the turn's usage
        assert turn["usage"]
    if rig.cli == "claude-code":  # its cost on the event (a first turn: the session's total)
        assert 0 < turn["cost_usd"] < 0.1


async def test_the_cli_and_what_it_started_run_below_swarms_priority(rig: Rig) -> None:
    """``[desktop] nice`` (10 unless set): the agent's CLI, and the processes it started
    (Gemini CLI's and Codex's helpers), run 10 below the host's CPU priority."""
    hello = await client.hello(rig.home, AGENT)
    assert hello.pid is not None and hello.agent_pid is not None
    lowered = min(19, os.getpriority(os.PRIO_PROCESS, hello.pid) + 10)
    agent = hello.agent_pid
    assert os.getpriority(os.PRIO_PROCESS, agent) == lowered
    started = _descendants(agent)
    assert all(nice >= lowered for nice in started.values()), started


def _descendants(pid: int) -> dict[int, int]:
    """pid -> its nice value, for every live process below ``pid``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text(encoding="utf-8").rpartition(")")[2].split()
            parents[int(entry.name)] = (int(stat[1]), int(stat[16]))  # ppid, nice
    below, found = {pid}, {}
    for _ in range(8):  # a few generations deep
        for child, (parent, nice) in parents.items():
            if parent in below and child not in found:
                found[child] = nice
        below |= found.keys()
    return found


async def _asked(swarm: Swarm) -> prompts.Prompt:
    async def opened() -> prompts.Prompt | None:
        found = await swarm.service.store.read(prompts.open_prompts, AGENT)
        return found[0] if found else None

    return await swarm.until(opened)


@pytest.mark.timeout(240)
async def test_a_permission_request_is_one_item_with_the_agents_options_and_allow_runs_it(
    asks: Rig, swarm: Swarm
) -> None:
    rig = asks
    await swarm.service.messages.send(AGENT, "make the allowed file", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    asked = await _asked(swarm)
    assert "touch allowed.txt" in asked.text
    assert (await swarm.state()).state is AgentState.WAITING
    labels = [o.label for o in asked.options]
    if rig.cli == "gemini":
        assert labels == ["Allow for this session", "Allow", "Reject"]  # its own words
        allow = "proceed_once"
    else:  # Claude Code's: Yes, each rule or mode it suggests in words, No
        assert labels[0] == "Yes" and labels[-1] == "No", labels
        assert all(label.startswith("Yes, and ") for label in labels[1:-1]), labels
        allow = "allow"
    await swarm.service.inbox.decide_prompt(asked.id, allow, "person")

    async def made() -> bool:
        return (rig.work / "allowed.txt").exists() and (
            await swarm.state()
        ).state is AgentState.IDLE

    await swarm.until(made)
    settled = await swarm.service.inbox.prompt(asked.id)
    assert settled.decision == allow
    assert await swarm.service.store.read(prompts.open_prompts, AGENT) == []
    said = await _transcript(swarm)  # the call named by its command, the answer by its label
    label = labels[0] if rig.cli != "gemini" else "Allow"
    assert any(line.endswith(f"(allowed ({label}) by person)") for line in said), said
    if rig.cli == "claude-code":
        # (the head of what it printed follows, as Claude Code's tool result says it)
        assert any(line.startswith("tool call Bash: touch allowed.txt (completed)")
                   for line in said), said  # fmt: skip
    # read in order (by row), the request comes before the outcome of the call it gates
    rows = await swarm.service.store.read(transcript.newest, AGENT)
    (request,) = [r.id for r in rows if r.kind == transcript.PERMISSION and r.status]
    calls = [r.id for r in rows if r.kind == transcript.TOOL and "touch allowed.txt" in r.text]
    assert calls and request < min(calls), [(r.id, transcript.status_line(r)) for r in rows]


@pytest.mark.timeout(240)
async def test_a_rejected_permission_request_does_not_run(asks: Rig, swarm: Swarm) -> None:
    rig = asks
    await swarm.service.messages.send(AGENT, "make the refused file", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    asked = await _asked(swarm)
    reject = asked.options[-1].key  # Gemini's "Reject", Claude Code's "No"
    await swarm.service.inbox.decide_prompt(asked.id, reject, "person")

    async def ended() -> bool:
        return (
            await swarm.state()
        ).state is AgentState.IDLE and not await swarm.service.store.read(
            prompts.open_prompts, AGENT
        )

    await swarm.until(ended)
    assert not (rig.work / "refused.txt").exists()
    said = await _transcript(swarm)  # a denied call reads denied (before: "completed")
    denied = f"(denied ({asked.options[-1].label}) by person)"
    assert any(line.endswith(denied) for line in said), said
    if rig.cli == "claude-code":
        assert any(line.startswith("tool call Bash: touch refused.txt (denied)")
                   for line in said), said  # fmt: skip


async def _transcript(swarm: Swarm) -> list[str]:
    """The agent's transcript as one line a row."""
    rows = await swarm.service.store.read(transcript.newest, AGENT)
    return [transcript.status_line(row) for row in rows]


@pytest.mark.timeout(240)
async def test_a_prompt_while_a_turn_runs_waits_for_its_end_and_a_cancel_ends_it(
    rig: Rig, swarm: Swarm
) -> None:
    # the agent accepts a prompt with its first update: Gemini's comes with the model's
    # first words, six seconds away here
    slow = asyncio.create_task(client.prompt(rig.home, AGENT, 10**9, "take your time", wait_s=60))
    deadline = time.monotonic() + 30
    while not (await client.hello(rig.home, AGENT)).busy:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    busy = await client.prompt(rig.home, AGENT, 10**9 + 1, "say hello")
    assert isinstance(busy, client.Failed) and busy.busy, busy
    assert "a turn is running (delivery 1000000000)" in busy.reason

    async def working() -> bool:
        return (await swarm.state()).state is AgentState.WORKING

    await swarm.until(working)  # swarm has the host's word that a turn runs
    message = await swarm.service.messages.send(AGENT, "say hello", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    (held,) = await swarm.service.messages.deliveries(message)
    # never claimed nor sent (before: sent, refused as busy, put off: ``deferred``)
    assert (held.state.value, held.attempts, held.deferred, held.reason) == (
        "queued",
        0,
        False,
        None,
    )
    cancelled = await client.cancel(rig.home, AGENT)
    assert cancelled == client.Cancelled(running=True)
    assert (await slow).ok

    async def ended() -> list[dict[str, Any]]:
        return [t for t in await swarm.turns() if t.get("delivery") == 10**9]

    (turn,) = await swarm.until(ended)
    # opencode 1.18.33 was seen (1 run of 4) to end a turn cancelled at once with its answer
    # as end_turn, the model's answer already come; the others say cancelled
    reasons = ("cancelled", "end_turn") if rig.cli == "opencode" else ("cancelled",)
    assert turn["stop_reason"] in reasons, turn
    if rig.cli == "claude-code":  # its turn end leaves the cancelled request out (issue 79)
        cut = await swarm.service.store.read(_booked_of, 10**9)
        assert [(r[0], r[1]) for r in cut] == [(0, "no_usage")], cut  # unknown, never 0
    assert (await swarm.state()).state is AgentState.IDLE
    await Scheduler(swarm.service, swarm.deliverer).run_burst()  # the held one goes now
    (sent,) = await swarm.service.messages.deliveries(message)
    assert sent.state.value == "delivered", sent

    async def its_turn_ended() -> bool:
        return any(t.get("delivery") == sent.id for t in await swarm.turns())

    await swarm.until(its_turn_ended)


@pytest.mark.timeout(240)
async def test_what_comes_while_swarm_is_stopped_is_taken_in_once_when_it_starts_again(
    rig: Rig, swarm: Swarm
) -> None:
    before = len(await swarm.turns())
    spent = await swarm.service.store.read(_agents_rows)  # (the fixture's first look read all)
    await swarm.service.messages.send(AGENT, "answer in a moment", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    await swarm.watch.fire()
    await swarm.watch.stop()  # swarm stops mid-turn: the host keeps the turn's end
    await swarm.service.close()
    deadline = time.monotonic() + 60
    while (await client.hello(rig.home, AGENT)).busy:  # its answer let go now swarm is down
        assert time.monotonic() < deadline
        rig.model.admin.release()
        await asyncio.sleep(0.2)
    for _ in range(2):  # started twice: the second start reads the journal again
        service = await SwarmService.open(rig.settings)
        watch = ProtocolWatch(service, Freshness())
        usage = UsageFiles(service.store)
        keys = PromptKeys(service, swarm.deliverer, None)
        again = Swarm(service, swarm.deliverer, watch, keys, usage)
        await watch.start()
        try:

            async def idle(again: Swarm = again) -> bool:
                return (await again.state()).state is AgentState.IDLE

            await again.until(idle)
            await asyncio.sleep(0.5)
            await watch.fire()
            await usage.tick()
            assert len(await again.turns()) == before + 1
            # its usage too, once: from Claude Code's turn end in the journal, from the
            # others' files (their host's session, read from its start at the first look)
            assert await service.store.read(_agents_rows) == spent + 1
        finally:
            await watch.stop()
            await service.close()
    swarm.service = await SwarmService.open(rig.settings)  # for the fixture's close
    swarm.watch = ProtocolWatch(swarm.service, Freshness())


@pytest.mark.timeout(240)
async def test_a_turn_that_ends_while_swarm_is_down_before_it_was_taken_is_followed_up(
    rig: Rig, swarm: Swarm
) -> None:
    """Issue 79, item 1: swarm stops while the host waits for the agent to take a task's
    prompt (the model silent yet); the turn ends, unreported, while swarm is down. Started
    again, swarm retries the interrupted delivery (the host: taken before, no second prompt)
    and follows the turn's end up at once: a nudge, not a silent lease timeout."""
    details = f"answer quietly later ({rig.cli})"
    task = await swarm.service.tasks.create(TaskSpec("quiet", details, agent=AGENT), "me")
    burst = asyncio.ensure_future(Scheduler(swarm.service, swarm.deliverer).run_burst())

    async def asked() -> bool:
        return any(details in str(r.get("prompt") or "") for r in rig.model.requests())

    await swarm.until(asked, within=60)
    burst.cancel()  # swarm killed while its delivery waits for the host's word
    with contextlib.suppress(asyncio.CancelledError):
        await burst
    await swarm.watch.stop()
    await swarm.service.close()
    deadline = time.monotonic() + 60
    while (await client.hello(rig.home, AGENT)).busy:  # the turn ends while swarm is down
        assert time.monotonic() < deadline
        rig.model.admin.release()  # its answers let go (Gemini CLI's router's, then its own)
        await asyncio.sleep(0.2)
    service = await SwarmService.open(rig.settings)
    watch = ProtocolWatch(service, Freshness())
    again = Swarm(service, swarm.deliverer, watch, PromptKeys(service, swarm.deliverer, None),
                  UsageFiles(service.store))  # fmt: skip
    swarm.service, swarm.watch = service, watch  # for the fixture's close
    await watch.start()
    await service.queue.recover()
    watcher = Watcher(service, watch_settings(grace_s=1.0, reassign_after_s=600.0))
    started = time.monotonic()

    async def nudged() -> bool:
        await Scheduler(service, swarm.deliverer).run_burst()
        await watch.fire()
        await watcher.tick()
        events = await service.history.events(0, 10_000)
        return any(e.kind == "agent.nudged" and e.task_id == task.id for e in events)

    await again.until(nudged, within=90)
    followed_s = time.monotonic() - started
    prompts = [r for r in rig.model.requests() if details in str(r.get("prompt") or "")]
    assert len([r for r in prompts if not SIDE[rig.cli](r)]) == 1, prompts  # never sent twice
    assert followed_s < 60, followed_s  # well inside SWARM_GRACE (120 s), not the lease's 300
    # the agent reports: its nudge, if still queued, is dropped; the next test finds it idle
    await service.tasks.complete(task.ref, AGENT, "reported after the nudge")

    async def settled() -> bool:
        await Scheduler(service, swarm.deliverer).run_burst()
        await watch.fire()
        left = [d for d in await service.messages.deliveries(None, limit=50)
                if d.state.value in ("queued", "delivering")]  # fmt: skip
        return not left and (await again.state()).state is AgentState.IDLE

    await again.until(settled, within=90)


def _agents_rows(conn: Any) -> int:
    """How many turns of A the ledger holds."""
    row = conn.execute("SELECT count(*) AS n FROM turn_usage WHERE agent = $1", (AGENT,))
    return int(row.fetchone()["n"])


def attached(rig: Rig) -> subprocess.Popen[str]:
    """``swarm attach A`` as a person runs it, its input and output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "attach", AGENT], env=rig.env, cwd=rig.work,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


@contextlib.contextmanager
def following(rig: Rig) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``swarm attach A`` running, what it prints gathered; left at the end (Ctrl+D)."""
    attach = attached(rig)
    assert attach.stdin is not None and attach.stdout is not None
    shown: list[str] = []
    reader = threading.Thread(target=lambda: shown.extend(attach.stdout or ()), daemon=True)
    reader.start()
    try:
        yield attach, shown
    finally:
        attach.stdin.close()
        attach.wait(timeout=30)
        reader.join(timeout=10)
        attach.stdout.close()


@pytest.mark.timeout(240)
async def test_attach_shows_the_live_transcript_and_sends_what_the_person_types(
    rig: Rig, swarm: Swarm
) -> None:
    with following(rig) as (attach, shown):
        assert attach.stdin is not None
        attach.stdin.write("say hello from attach\n")
        attach.stdin.flush()

        async def queued() -> bool:
            return any(
                "say hello from attach" in d.text for d in await swarm.service.messages.deliveries()
            )

        await swarm.until(queued)
        await Scheduler(swarm.service, swarm.deliverer).run_burst()
        deadline = time.monotonic() + 60
        while "turn ended" not in "".join(shown).rpartition("say hello from attach")[2]:
            assert time.monotonic() < deadline, shown  # the turn it started, shown live
            await asyncio.sleep(0.1)
    text = "".join(shown)
    assert attach.returncode == 0, text
    assert f"{AGENT}: protocol session" in shown[0]
    prompt = next(line for line in shown if "say hello from attach" in line)
    assert prompt.startswith("> [swarm] from ")  # the prompt as the agent took it
    assert "hello from localmodel" in text.rpartition("say hello from attach")[2]


@pytest.mark.timeout(240)
async def test_attach_prints_a_permission_request_before_the_tool_call_it_gates(
    asks: Rig, swarm: Swarm
) -> None:
    with following(asks) as (_, shown):
        await swarm.service.messages.send(AGENT, "make the allowed file for attach", "me")
        await Scheduler(swarm.service, swarm.deliverer).run_burst()
        asked = await _asked(swarm)
        await swarm.service.inbox.decide_prompt(asked.id, asked.options[0].key, "person")

        async def ended() -> bool:  # (the keys send the answer)
            return "turn ended" in "".join(shown).rpartition("allowed file for attach")[2]

        await swarm.until(ended)
    turn = "".join(shown).rpartition("allowed file for attach")[2].splitlines()
    about = [line for line in turn if "touch allowed" in line]
    assert about and about[0].startswith("?? asks: touch allowed"), turn  # the request first
    calls = [line for line in about if line.startswith("   [")]
    assert calls and len(calls) == len(set(calls)), turn  # the call after it, each line once


@pytest.mark.timeout(240)
async def test_a_killed_host_makes_the_agent_offline_and_up_again_resumes(
    rig: Rig, swarm: Swarm
) -> None:
    await _kill_host(rig, swarm)
    await _up_again(rig, swarm)
    await _prompt_to_idle(swarm, "say hello")


@pytest.fixture
def two_routes(rig: Rig) -> Rig:
    """Gemini CLI's and Claude Code's rigs (else skipped, before swarm's parts are set up):
    one ACP CLI and the stream-json one; the other ACP CLIs' hosts are the same."""
    if rig.cli not in ("gemini", "claude-code"):
        pytest.skip("a host outlives its CLI the same way for every ACP CLI")
    return rig


async def test_an_agent_whose_cli_exited_is_started_again_by_up(
    two_routes: Rig, swarm: Swarm
) -> None:
    """The agent's CLI ended on its own (a crash, the system's OOM killer, killed by hand)
    while its host runs on to say why: the agent is offline saying so, and ``swarm desktop
    up --protocol`` ends that host and starts the agent again, its session loaded (before:
    it kept that host, and the agent stayed offline until the host was killed by hand), once
    swarm has read all its host said (before that, the host is kept and ``up`` says to start
    swarm: nothing it holds is lost); a host whose agent runs is kept."""
    rig = two_routes
    hello = await client.hello(rig.home, AGENT)
    again = rig.swarm("desktop", "up", "--protocol", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    (kept,) = json.loads(again.stdout)
    assert (kept["action"], kept["session"]) == ("kept", f"host pid {hello.pid}"), kept
    cli = hello.agent_pid or 0  # the CLI, all of it (Gemini CLI runs itself again below)
    for pid in [cli, *_descendants(cli)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30  # the host saw its agent end; swarm has read none of it
    while (await client.hello(rig.home, AGENT)).exit_code is None:
        assert time.monotonic() < deadline, "the host never saw its agent exit"
        await asyncio.sleep(0.1)
    unread = rig.swarm("desktop", "up", "--protocol", "--json")
    assert unread.returncode == 0, unread.stdout + unread.stderr
    (held,) = json.loads(unread.stdout)
    assert held["action"] == "kept" and "start swarm" in held["session"], held

    async def exited() -> Any:
        row = await swarm.state()
        gone = row.state is AgentState.OFFLINE
        return row if gone and row.evidence.startswith("protocol: the agent exited") else None

    await swarm.until(exited)

    async def all_read() -> bool:  # (a host whose journal swarm has not all read is kept)
        said = await client.hello(rig.home, AGENT)
        return said.acked >= said.seq

    await swarm.until(all_read)
    await _up_again(rig, swarm)
    assert running.host_pid(rig.home, AGENT) != hello.pid
    await _prompt_to_idle(swarm, "say hello")


async def test_a_saved_session_the_cli_does_not_have_gives_way_to_a_new_one(
    rig: Rig, swarm: Swarm
) -> None:
    """The session a host saved is not always one its CLI can load: Claude Code saves a
    session with its first prompt, so one whose host ended before any (a crash, a reboot
    while the agent waited for work) is none of its own, and a user may have removed its
    files. ``swarm desktop up`` then starts the agent on a new session (before: Claude Code
    ended at once, "No conversation found with session ID", and the agent never came back
    up; an ACP CLI's ``session/load`` failed over to ``session/new`` untested), and the
    agent's state says its conversation is not in it."""
    await _kill_host(rig, swarm)
    unknown = str(uuid.uuid4())
    wire.session_path(rig.home, AGENT).write_text(unknown, encoding="utf-8")
    await _up_again(rig, swarm)
    entries = [
        wire.decode(line) for line in wire.journal_path(rig.home, AGENT).read_bytes().splitlines()
    ]
    opened = [e for e in entries if e.get("type") == wire.SESSION][-1]
    assert opened["session"] != unknown and opened["loaded"] is False, opened
    assert opened["lost"] == unknown, opened
    said = (await swarm.state()).evidence
    assert f"its session {unknown} could not be loaded, its conversation is not in it" in said
    await _prompt_to_idle(swarm, "say hello")


async def _kill_host(rig: Rig, swarm: Swarm) -> None:
    """The agent's host and its CLI killed; once swarm reads the agent offline for it."""
    pid = running.host_pid(rig.home, AGENT)
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)

    async def offline() -> Any:  # (a moment after the kill its socket may refuse first)
        row = await swarm.state()
        gone = "protocol: A's protocol host is not running (swarm desktop up"
        return row if row.state is AgentState.OFFLINE and row.evidence.startswith(gone) else None

    await swarm.until(offline)


async def _up_again(rig: Rig, swarm: Swarm) -> None:
    """``swarm desktop up --protocol`` starts the host again; once the agent is idle."""
    up = rig.swarm("desktop", "up", "--protocol", "--json")
    assert up.returncode == 0, up.stdout + up.stderr
    assert json.loads(up.stdout)[0]["action"] == "started"

    async def back() -> Any:
        row = await swarm.state()
        return row if row.state is AgentState.IDLE else None

    await swarm.until(back, within=120)  # (Gemini CLI loads its session: 60 s was short at load 9)


async def _turn_of(
    swarm: Swarm, text: str, allow: bool = False, watched: bool = False
) -> tuple[int, dict[str, Any]]:
    """``text`` given to A as a task's prompt (``allow``: the permission it asks allowed;
    ``watched``: the watch fired while the delivery waits for the agent to accept it, as
    ``swarm run``'s timers do: a CLI that says nothing until its first answer holds it up
    to ``ACCEPT_S``); the task's id and its turn's end."""
    task = await swarm.service.tasks.create(TaskSpec(text, text, agent=AGENT), "me")
    # (with the task's prompt may go a nudge an earlier test's silent turn end left queued)
    burst = asyncio.create_task(Scheduler(swarm.service, swarm.deliverer).run_burst())
    while watched and not burst.done():
        await swarm.watch.fire()
        await asyncio.sleep(0.1)
    assert (await burst).delivered >= 1
    if allow:  # (Gemini CLI's key for its "Allow", Claude Code's for its "Yes")
        asked = await _asked(swarm)
        key = next(o.key for o in asked.options if o.label in ("Allow", "Yes"))
        await swarm.service.inbox.decide_prompt(asked.id, key, "person")

    async def ended() -> list[dict[str, Any]]:
        events = await swarm.service.history.events(0, 10_000)
        return [e.data or {} for e in events if e.kind == "agent.turn" and e.task_id == task.id]

    (turn,) = await swarm.until(ended, within=150)
    await swarm.service.tasks.complete(task.ref, AGENT)
    return task.id, turn


async def _log_states(swarm: Swarm) -> list[str]:
    """The states A was read in from its CLI's own log (``agent.state`` events)."""
    events = await swarm.service.history.events(0, 10_000)
    return [str((e.data or {}).get("to")) for e in events
            if e.kind == "agent.state" and "its log: " in e.text]  # fmt: skip


@pytest.mark.timeout(240)
async def test_a_500_the_agent_retries_ends_its_turn_once(rig: Rig, swarm: Swarm) -> None:
    """A 500 then the answer: the turn ends once, as the agent says; Claude Code says its
    retry (stream-json's ``api_retry``), which its transcript keeps and reads ``errored``;
    opencode retries unsaid on ACP, read from its own log (before: not seen, ``working``).
    (One 500, not two: Gemini CLI waits seconds before each retry.)"""
    prompt = "fail its model once" if rig.cli == "gemini" else "fail once"
    task, turn = await _turn_of(swarm, prompt, watched=True)
    assert turn["stop_reason"] == "end_turn", turn
    asked = [r for r in rig.model.requests() if prompt in str(r.get("prompt") or "")]
    assert len(asked) >= 2, asked  # the 500 was served, then the answer
    if rig.cli == "claude-code":
        lines = await TranscriptBook(swarm.service.store).of_task(task)
        retries = [transcript.status_line(r) for r in lines if r.kind == transcript.RETRY]
        assert retries and all(r.startswith("API error 500, retrying") for r in retries), lines
    if rig.cli == "opencode":
        lines = await TranscriptBook(swarm.service.store).of_task(task)
        retries = [transcript.status_line(r) for r in lines if r.kind == transcript.RETRY]
        assert retries and "its log: AI_APICallError: The server had an error" in retries[0], [
            transcript.status_line(r) for r in lines
        ]
        assert "errored" in await _log_states(swarm), await _log_states(swarm)
    assert (await swarm.state()).state is AgentState.IDLE


@pytest.mark.timeout(240)
async def test_a_429_ends_its_turn_once_and_reads_limited_while_it_holds(
    rig: Rig, swarm: Swarm
) -> None:
    """A 429 with a reset 2 s away, then the answer. Claude Code says its retry, read
    ``limited`` until the retry it names, then the turn ends; Gemini CLI retries unsaid on
    ACP, read ``limited`` from its debug log (a row of the turn's transcript; before: not
    seen, ``working``), and ends it; opencode retries unsaid on ACP, read ``limited`` until
    the retry its own log says ("Please try again in 2s"; before: ``working``), and ends it;
    Codex (through codex-acp) ends the turn at once as failed ("exceeded retry limit, last
    status: 429"), read ``limited`` until the agent is seen working again."""
    prompt = "wait for its model's limit" if rig.cli == "gemini" else "wait for the limit"
    task, turn = await _turn_of(swarm, prompt, watched=True)
    if rig.cli == "codex":
        assert "last status: 429" in turn["message"], turn
        row = await swarm.state()
        assert row.state is AgentState.LIMITED and "429" in row.evidence, row
        taken = await client.prompt(rig.home, AGENT, 10**8, "say hello", wait_s=60)
        assert taken.ok, taken

        async def free() -> Any:
            return (await swarm.state()).state is AgentState.IDLE

        await swarm.until(free)
        return
    assert turn["stop_reason"] == "end_turn", turn
    if rig.cli == "gemini":  # its retry, unsaid on ACP, read from the debug log swarm named
        lines = await TranscriptBook(swarm.service.store).of_task(task)
        retries = [transcript.status_line(r) for r in lines if r.kind == transcript.RETRY]
        assert retries and retries[0].startswith("API error 429"), [
            transcript.status_line(r) for r in lines
        ]
        assert "its log: " in retries[0], retries
    if rig.cli == "opencode":  # its retry, unsaid on ACP, read from its own log
        lines = await TranscriptBook(swarm.service.store).of_task(task)
        rows = [r for r in lines if r.kind == transcript.RETRY]
        words = [transcript.status_line(r) for r in rows]
        assert words and words[0].startswith("API error 429"), words
        assert "its log: AI_APICallError: Rate limit reached" in words[0], words
        assert "limited" in await _log_states(swarm)
        events = await swarm.service.history.events(0, 10_000)
        (limit,) = [e.data or {} for e in events if e.kind in LIMIT_KINDS and "its log" in e.text]
        assert limit["until"] == pytest.approx(rows[0].at + 2, abs=0.25), (limit, rows[0])
    if rig.cli == "claude-code":
        lines = await TranscriptBook(swarm.service.store).of_task(task)
        retries = [transcript.status_line(r) for r in lines if r.kind == transcript.RETRY]
        assert retries and retries[0].startswith("API error 429, retrying"), lines
        events = await swarm.service.history.events(0, 10_000)
        limited = [e.text for e in events if e.kind == "agent.limited"]
        assert any("protocol: API error 429" in text for text in limited), limited
    assert (await swarm.state()).state is AgentState.IDLE


@pytest.mark.timeout(240)
async def test_a_stream_frozen_mid_answer_is_stalled_then_ends_when_it_flows(
    rig: Rig, swarm: Swarm
) -> None:
    """The model's answer stops after three chunks: the agent's last update ages, and the
    watcher's stall rule (SWARM_STALL_AFTER 1.5 s here) says it stalled, with no nudge typed
    into it; the stream released, the turn ends and the stall is over."""
    settings = watch_settings(stall_after_s=1.5, grace_s=1.0, reassign_after_s=600.0)
    watcher = Watcher(swarm.service, settings)
    # Gemini CLI first asks its router (another model) which model answers: that request is
    # not the stream frozen here (were it, the prompt would wait ACCEPT_S to be taken)
    prompt = "freeze its answer" if rig.cli == "gemini" else "freeze midway"
    task = await swarm.service.tasks.create(TaskSpec(prompt, prompt, agent=AGENT), "me")
    assert (await Scheduler(swarm.service, swarm.deliverer).run_burst()).delivered == 1

    async def stalled() -> Any:
        await watcher.tick()
        row = await swarm.state()
        return row if row.state is AgentState.STALLED else None

    row = await swarm.until(stalled, within=90)
    assert row.evidence.startswith(f"{AGENT} stalled: no update for "), row
    assert [a.kind for a in await swarm.service.store.read(list_alerts)] == ["stalled"]
    events = await swarm.service.history.events(0, 10_000)
    assert not [e for e in events if e.kind == "agent.nudged" and e.task_id == task.id]

    async def flowed() -> Any:
        rig.model.admin.release()
        events = await swarm.service.history.events(0, 10_000)
        return [e for e in events if e.kind == "agent.turn" and e.task_id == task.id]

    await swarm.until(flowed, within=90)
    # the task reported done before the watcher looks again (else it would nudge the agent
    # about its turn that ended without a report, as it should): the stall is over
    await swarm.service.tasks.complete(task.ref, AGENT)
    await watcher.tick()
    assert not await swarm.service.store.read(list_alerts)


def _ledger(conn: Any, task: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT task_id, agent, account, cli, model, source, input_tokens, output_tokens, "
        "cache_read_tokens, cache_write_tokens, cost_usd, cost_from FROM turn_usage "
        "WHERE task_id = $1 ORDER BY id",
        (task,),
    ).fetchall()
    return [dict(zip(r.keys(), values(r), strict=True)) for r in rows]


FROM_FILES = ("codex", "gemini", "opencode")  # their usage from their files (issue 51)


@pytest.mark.timeout(240)
async def test_a_turns_usage_in_the_ledger_is_what_localmodel_reported(
    rig: Rig, swarm: Swarm
) -> None:
    """Issue 51, item 6: the turn's usage reaches the cost ledger as localmodel reported it
    (the script fixes the answer's usage): Claude Code's from its stream-json's turn end,
    with its cost; Codex's (codex-acp), Gemini CLI's and opencode's from their own files in
    the folder their host runs them with (the agents file's ``cli_dir``, written by
    ``desktop up --protocol``): their protocol gives none, or opencode's last request's
    alone. Those are priced from the price table (their model is in it)."""
    task, _ = await _turn_of(swarm, "count my tokens")

    async def found() -> list[dict[str, Any]]:
        return await swarm.service.store.read(_ledger, task)

    (row,) = await swarm.until(found)
    source = "transcript" if rig.cli in FROM_FILES else "protocol"
    assert (row["agent"], row["account"], row["cli"], row["source"]) == (
        AGENT, "test-account", rig.cli, source,
    )  # fmt: skip
    assert row["output_tokens"] == OUT, row
    assert row["input_tokens"] + row["cache_read_tokens"] + row["cache_write_tokens"] == IN, row
    if rig.cli == "claude-code":  # its cost, from its own price of the model it asked
        assert row["cost_from"] == "cli" and 0 < row["cost_usd"] < 1
        assert row["model"]
    else:  # the model their files name, at the price table's price
        assert row["model"] and row["cost_from"] == "price", row
    for request in rig.model.requests():  # the turn's others are its CLI's side requests
        if "count my tokens" in str(request.get("prompt")) and not offers_tools(request):
            assert SIDE[rig.cli](request), request
    spend = await swarm.service.costs.of_task(task)
    assert spend["cost"].turns == 1 and spend["cost"].unknown == 0


@pytest.mark.timeout(300)
async def test_an_agents_turns_in_the_ledger_are_what_localmodel_reported(
    rig: Rig, swarm: Swarm
) -> None:
    """Issue 51, item 4: two turns, each a task: "count my tokens" (4321 in, 87 out), then
    "make the allowed file" (a shell call, which Claude Code and Gemini CLI ask for and
    swarm's inbox allows, and the answer after it). The two tasks' rows in the ledger sum
    exactly localmodel's count of the usage it reported to the requests offering tools
    meanwhile (the conversation's three), as on the tmux route
    (``check_ledger_is_localmodels``); any other request is the CLI's side request (``SIDE``),
    which its files (or Claude Code's turn end) leave out. Nothing is counted twice: the
    protocol's own usage of Codex, Gemini CLI and opencode is not recorded."""
    before = rig.model.admin.requests(since=0)
    since = before[-1]["seq"] if before else 0
    first, _ = await _turn_of(swarm, "count my tokens")
    second, _ = await _turn_of(swarm, "make the allowed file", allow=rig.cli in ASKS)
    requests = rig.model.admin.requests(since=since)
    talked = Counted([], None, requests).server(offers_tools)

    async def read() -> Counted:
        spent = [await swarm.service.costs.of_task(t) for t in (first, second)]
        rows = [*spent[0]["turns"], *spent[1]["turns"]]
        return Counted(rows, ledger.total([s["cost"] for s in spent]), requests)

    async def all_read() -> Counted | None:  # files are read at the ticks after the turn
        counted = await read()
        return counted if counted.ledger == talked else None

    with contextlib.suppress(AssertionError):  # (else the check below says what differs)
        await swarm.until(all_read, within=30)
    counted = await read()
    check_ledger_is_localmodels(counted, SIDE[rig.cli])
    sources = {r["source"] for r in counted.rows}
    assert sources == {"transcript" if rig.cli in FROM_FILES else "protocol"}, counted.rows
    assert counted.spent.unknown == 0, counted.rows


# last: the agent stays limited for the module's rest (Gemini says no reset)
@pytest.mark.timeout(240)
async def test_a_spent_quota_reads_limited(quota: Rig, swarm: Swarm) -> None:
    await swarm.service.messages.send(AGENT, "spend the quota", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()

    async def limited() -> Any:
        row = await swarm.state()
        return row if row.state is AgentState.LIMITED else None

    row = await swarm.until(limited, within=120)
    assert row.evidence.startswith("protocol: the turn failed")
