"""No strands, no clutter in "Needs you" (issue 53, item 7): a failed delivery closes when
its task ended or went to another agent; one dead tmux session is one item; a task pinned to
a dead session waits for its agent instead of failing for good."""

from __future__ import annotations

import dataclasses
import shlex
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from automation.tmux.delivery import TmuxDeliverer, TmuxOptions
from core.agent_state import AgentState, Signal
from core.agents import _signals as agent_signals
from core.coordinator.scheduler import Scheduler
from core.delivery._killswitch import KillSwitch
from core.errors import InvalidState
from core.models import Receipt, TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import write_agents
from tests.inbox.test_inbox import deliver_next, fail_delivery, fail_next
from tests.tmux_server import Tmux

pytestmark = pytest.mark.both_databases

ROOT = Path(__file__).resolve().parents[2]


async def test_a_failed_prompt_closes_once_another_agent_finished_its_task(
    service: SwarmService, clock: ManualClock
) -> None:
    """Agent-1's prompt of T-1 failed; Agent-2 took T-1 and finished it: the item leaves the
    queue (it stayed before, and retrying it was refused), and acting on it says why."""
    task = await service.tasks.create(TaskSpec("Fix the build"), "cli")
    await service.queue.assign_batch()
    holder = (await service.tasks.get(task.id)).agent
    assert holder is not None
    failed = await fail_next(service)
    (need,) = await service.inbox.needs()
    assert (need.ref, need.agent) == (f"D-{failed}", holder)
    clock.advance(3600)  # the task's backoff
    await service.store.update(agent_signals.set_state, holder, AgentState.OFFLINE,
                               clock.now(), Signal.TEXT, "text: gone")  # fmt: skip
    await service.queue.assign_batch()
    other = (await service.tasks.get(task.id)).agent
    assert other not in (None, holder)
    assert await service.inbox.needs() == []  # held by another agent: moved on
    await service.tasks.complete(task.ref, other or "", "fixed")
    assert await service.inbox.needs() == []
    with pytest.raises(InvalidState, match=f"D-{failed}: T-1 is done: nothing to send again"):
        await service.inbox.act(f"D-{failed}", "retry", "cli:boss")


async def test_a_message_failed_three_times_is_one_item(
    service: SwarmService, clock: ManualClock
) -> None:
    """The same message to the same agent, failed, retried by a person, failed again: one
    item, the newest, which a person can retry; the older one is no longer answerable."""
    first = await fail_delivery(service, "Agent-3", "please rebase")
    await service.inbox.act(f"D-{first}", "retry", "cli:boss")
    again = await fail_next(service)
    assert again == first  # a retry is the same delivery row
    second = await fail_delivery(service, "Agent-3", "please rebase")
    assert [n.ref for n in await service.inbox.needs()] == [f"D-{first}", f"D-{second}"]
    # a task's prompt failed for good twice to one agent: one item
    await service.tasks.create(TaskSpec("Fix the build", agent="Agent-1"), "cli")
    await service.queue.assign_batch()
    one = await fail_next(service)
    clock.advance(3600)
    await service.queue.assign_batch()
    two = await fail_next(service)
    refs = [n.ref for n in await service.inbox.needs()]
    assert f"D-{two}" in refs and f"D-{one}" not in refs
    with pytest.raises(InvalidState, match=f"D-{one}: a later delivery to Agent-1 failed too"):
        await service.inbox.act(f"D-{one}", "dismiss", "cli:boss")
    await deliver_next_after(service, clock)
    assert f"D-{two}" not in [n.ref for n in await service.inbox.needs()]


async def deliver_next_after(service: SwarmService, clock: ManualClock) -> None:
    """The task's next prompt (after its backoff) gets through."""
    clock.advance(3600)
    await service.queue.assign_batch()
    await deliver_next(service)


@pytest.fixture
async def tmux_swarm(
    tmux: Tmux, tmp_path: Path, settings: Settings, clock: ManualClock
) -> AsyncIterator[tuple[SwarmService, TmuxDeliverer]]:
    """Agent-1 in a real tmux pane (a shell), Agent-2 not on tmux; the real tmux deliverer."""
    path = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "Agent-1", "role": "dev", "delivery": "tmux", "tmux": "agents:Agent-1",
             "tmux_socket": str(tmux.socket), "clear": ["ctrl+e", "ctrl+u"]},
            {"id": "Agent-2", "role": "dev"},
        ],
    )  # fmt: skip
    service = await SwarmService.open(dataclasses.replace(settings, config_path=path), clock)
    deliverer = TmuxDeliverer(settings.home, KillSwitch(settings.home), TmuxOptions())
    try:
        yield service, deliverer
    finally:
        deliverer.close()
        await service.close()


def start_pane(tmux: Tmux, folder: Path) -> None:
    """Agent-1's pane: the scripted agent CLI (tests/apps/term_chat.py), at its input."""
    out, ready = folder / "Agent-1.jsonl", folder / f"Agent-1.{time.monotonic_ns()}.ready"
    root = shlex.quote(str(ROOT))
    command = (
        f"cd {root} && exec env -u DISPLAY PYTHONPATH={root} {shlex.quote(sys.executable)} "
        f"-m tests.apps.term_chat {shlex.quote(str(out))} --name Agent-1 "
        f"--ready {shlex.quote(str(ready))}"
    )
    tmux.window("agents", "Agent-1", command, "120x40")
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline, "Agent-1 never drew its prompt"
        time.sleep(0.05)


@pytest.mark.timeout(120)
async def test_a_task_pinned_to_a_dead_session_waits_for_its_agent_as_one_item(
    tmux: Tmux,
    tmux_swarm: tuple[SwarmService, TmuxDeliverer],
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    """Agent-1's tmux session is gone (killed) and T-1 is pinned to it: the real deliverer
    finds the pane gone; the task goes back to the queue without using one of its attempts,
    Agent-1 is offline, it gets nothing more, and "Needs you" holds one item that says T-1
    waits for Agent-1 (before: a failed item per attempt, an alert, and T-1 failed for good
    after its three attempts within 15 s)."""
    service, deliverer = tmux_swarm
    tmux.window("agents", "keep", "exec sleep 600", "80x24")  # the server outlives Agent-1
    start_pane(tmux, tmp_path)
    tmux.run("kill-window", "-t", "agents:Agent-1")
    task = await service.tasks.create(TaskSpec("Fix the build", agent="Agent-1"), "cli")
    scheduler = Scheduler(service, deliverer)
    for _ in range(5):  # more rounds than its attempts, each past the retry backoff
        await scheduler.run_burst()
        clock.advance(60)
    got = await service.tasks.get(task.id)
    assert (got.status, got.attempts) == (TaskStatus.ready, 0)
    state = await service.store.read(agent_signals.get_state, "Agent-1")
    assert state.state is AgentState.OFFLINE
    failed = [d for d in await service.messages.deliveries() if d.state.value == "failed"]
    assert len(failed) == 1 and "tmux pane agents:Agent-1 is gone" in (failed[0].reason or "")
    (need,) = await service.inbox.needs()
    assert (need.ref, need.kind, need.agent) == ("T-1", "stranded", "Agent-1")
    assert need.text.startswith(
        "T-1 'Fix the build' waits for Agent-1, which is offline (text: tmux pane "
        "agents:Agent-1 is gone"
    )
    assert need.text.endswith("it gets the task once it is back")
    # the session is back: the watcher sees its input; the task goes to it, the item closes
    start_pane(tmux, tmp_path)
    await service.store.update(agent_signals.set_state, "Agent-1", AgentState.IDLE,
                               clock.now(), Signal.TEXT, "text: ready>")  # fmt: skip
    await scheduler.run_burst()
    got = await service.tasks.get(task.id)
    assert (got.status, got.agent) == (TaskStatus.assigned, "Agent-1")
    assert any(d.state.value == "delivered" for d in await service.messages.deliveries())
    assert await service.inbox.needs() == []


async def test_an_offline_agent_gets_no_task_and_a_held_one_is_one_item(
    service: SwarmService, clock: ManualClock
) -> None:
    """A prompt failed because the session is gone (the receipt says so): the task, not
    pinned, goes to another agent at once with its attempt given back."""
    task = await service.tasks.create(TaskSpec("Fix the build"), "cli")
    await service.queue.assign_batch()
    first = (await service.tasks.get(task.id)).agent
    delivery = await service.queue.claim_delivery()
    assert delivery is not None
    gone = Receipt.failed(f"tmux pane swarm-{first}:0 is gone", "tmux", gone=True)
    await service.queue.record_receipt(delivery, gone)
    await service.queue.assign_batch()
    got = await service.tasks.get(task.id)
    assert got.agent not in (None, first) and got.attempts == 1
    assert await service.inbox.needs() == []


async def test_a_note_that_fails_to_an_offline_holder_is_told_by_the_holding_item(
    service: SwarmService, clock: ManualClock
) -> None:
    """Agent-1 holds T-1 and its pane is gone: "Needs you" holds T-1 (held by an offline
    agent); a nudge about T-1 that then fails to reach it is not one more item."""
    task = await service.tasks.create(TaskSpec("Fix the build", agent="Agent-1"), "cli")
    await service.queue.assign_batch()
    await deliver_next(service)
    gone = "text: tmux pane swarm-Agent-1:0 is gone"
    await service.store.update(agent_signals.set_state, "Agent-1", AgentState.OFFLINE,
                               clock.now(), Signal.TEXT, gone)  # fmt: skip
    await service.inbox.act(task.ref, "nudge", "cli:boss")
    await fail_next(service)
    (need,) = await service.inbox.needs()
    assert (need.ref, need.kind, need.extra) == ("T-1", "holding", {"offline": True})
    await fail_delivery(service, "Agent-1", "stand-up at 10")  # no task: its own item
    assert [n.kind for n in await service.inbox.needs()] == ["holding", "undelivered"]


@pytest.mark.timeout(120)
async def test_messages_to_a_dead_session_wait_for_their_agent_as_one_item(
    tmux: Tmux,
    tmux_swarm: tuple[SwarmService, TmuxDeliverer],
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    """Agent-1's tmux session is gone; three messages (about no task) are sent to it: the
    real deliverer finds the pane gone, each waits (queued, no try used, never failed),
    Agent-1 is offline, and "Needs you" holds one item, a messages-wait alert (before: each
    message failed for good at once, one item each). The session back, the three are
    delivered in order and the item closes."""
    service, deliverer = tmux_swarm
    tmux.window("agents", "keep", "exec sleep 600", "80x24")  # the server outlives Agent-1
    start_pane(tmux, tmp_path)
    tmux.run("kill-window", "-t", "agents:Agent-1")
    for text in ("please rebase", "then run the tests", "and tell me"):
        await service.messages.send("Agent-1", text, "cli")
    scheduler = Scheduler(service, deliverer)
    for _ in range(4):  # several rounds, each past the wait
        await scheduler.run_burst()
        clock.advance(60)
    deliveries = await service.messages.deliveries()
    assert [(d.state.value, d.attempts) for d in deliveries] == [("queued", 0)] * 3
    assert all("Agent-1 is offline (tmux pane agents:Agent-1 is gone" in (d.reason or "")
               for d in deliveries)  # fmt: skip
    state = await service.store.read(agent_signals.get_state, "Agent-1")
    assert state.state is AgentState.OFFLINE
    (need,) = await service.inbox.needs()
    assert (need.kind, need.agent) == ("alert", "Agent-1"), need
    assert need.text.startswith("Agent-1 is offline (tmux pane agents:Agent-1 is gone")
    start_pane(tmux, tmp_path)
    for _ in range(3):
        await scheduler.run_burst()
        clock.advance(60)
    deliveries = await service.messages.deliveries()
    assert [d.state.value for d in deliveries] == ["delivered"] * 3
    taken = (tmp_path / "Agent-1.jsonl").read_text(encoding="utf-8")
    assert (
        taken.index("please rebase")
        < taken.index("then run the tests")
        < taken.index("and tell me")
    )
    assert await service.inbox.needs() == []
