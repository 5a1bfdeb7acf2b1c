"""Two writers on the same rows at the same moment, from two connections (two processes, as
far as the database can tell), round after round, on both databases: the outcome is one of
the two, never both. On PostgreSQL write transactions run side by side with no global lock
(``core/store/postgres/store.py``); these hold by row locks and conditional updates
(``core/store/row_locks.py``, docs/decisions/0007-write-races.md). On SQLite ``BEGIN
IMMEDIATE`` makes the second wait for the first. A consumer reading events never misses
one committed late (the outbox horizon)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import psycopg
import pytest

from core.assignment import _lifecycle as lifecycle
from core.assignment import _passes as assignment
from core.clis.claude_code.hook_dialog import PERMISSION_OPTIONS
from core.delivery import _receipts as receipts
from core.dialogs import hooks, pane_prompts
from core.dialogs import permissions as prompts
from core.errors import InvalidState
from core.event_kinds import EventKind
from core.models import Receipt, TargetKind, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.tables import insert_event
from core.tasks import _creation as creation
from core.workflows import campaigns, runs
from tests.helpers import query

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(120)]
ROUNDS = 8
WAIT_S = 10.0  # a generous bound: the other side is always there well before


@pytest.fixture
async def other(settings: Settings, clock: ManualClock) -> AsyncIterator[SwarmService]:
    """A second service on the same database: its own connection."""
    svc = await SwarmService.open(settings, clock)
    yield svc
    await svc.close()


class Meet:
    """Wraps two write functions so that their transactions overlap (PostgreSQL): each
    starts and reads, both meet, then each runs its function and does not commit until
    the other has run its function too or waits for a lock the first holds. So without row
    locks both read what was there before either wrote; with them, the second waits and
    reads what the first wrote. On SQLite the second waits at ``BEGIN IMMEDIATE``: the two
    simply run at once. A transaction the server ends as a deadlock runs again without
    meeting again."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.barrier = threading.Barrier(2, timeout=WAIT_S)
        self.pids: dict[str, int] = {}
        self.done: set[str] = set()

    def __call__(self, side: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(conn: Any, *args: Any) -> Any:
            if self.url and side not in self.pids:  # not again when run again (a deadlock)
                self.pids[side] = conn.raw.info.backend_pid
                conn.execute("SELECT count(*) FROM tasks").fetchone()
                self.barrier.wait()
            try:
                return fn(conn, *args)
            finally:
                self.done.add(side)
                if self.url:
                    self._until_other_ran_or_waits(side)

        return run

    def _until_other_ran_or_waits(self, side: str) -> None:
        assert self.url is not None
        other = next(s for s in self.pids if s != side)
        deadline = time.monotonic() + WAIT_S
        with psycopg.connect(self.url, autocommit=True) as watch:
            while other not in self.done and time.monotonic() < deadline:
                row = watch.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                    (self.pids[other],),
                ).fetchone()
                if row is not None and row[0] == "Lock":
                    return
                time.sleep(0.002)


async def _race(one: Any, two: Any) -> list[Any]:
    """Both results (an InvalidState counts as a result: refused)."""
    results = await asyncio.gather(one, two, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, InvalidState):
            raise result
    return list(results)


def _kinds(settings: Settings, task_id: int, prefix: str) -> list[str]:
    rows = query(
        settings,
        "SELECT kind FROM events WHERE task_id = $1 AND kind LIKE $2 ORDER BY id",
        (task_id, f"{prefix}%"),
    )
    return [k for (k,) in rows]


async def _assigned(service: SwarmService, title: str) -> int:
    task = await service.tasks.create(TaskSpec(title), "test")
    made = await service.queue.assign_batch()
    assert task.id in [a.task_id for a in made], made
    return task.id


async def _claimed_prompt(service: SwarmService, task_id: int) -> Any:
    """The delivery of the task's prompt, claimed (others due before it go out first)."""
    while (delivery := await service.queue.claim_delivery()) is not None:
        if delivery.task_id == task_id and delivery.target.kind is not TargetKind.withdraw:
            return delivery
        await service.queue.record_receipt(delivery, Receipt.delivered("test"))
    raise AssertionError(f"no prompt of T-{task_id} to claim")


async def test_done_and_cancel_at_once_is_one_of_them(
    service: SwarmService, other: SwarmService, settings: Settings
) -> None:
    for n in range(ROUNDS):
        task_id = await _assigned(service, f"race {n}")
        meet = Meet(settings.database_url)
        results = await _race(
            service.store.write("alice", meet("a", lifecycle.complete), task_id, "", True),
            other.store.write("bob", meet("b", lifecycle.cancel), task_id),
        )
        assert sum(isinstance(r, InvalidState) for r in results) == 1, results
        ends = [
            k for k in _kinds(settings, task_id, "task.") if k in ("task.done", "task.cancelled")
        ]
        assert len(ends) == 1, ends
        (status,) = query(settings, "SELECT status FROM tasks WHERE id = $1", (task_id,))[0]
        assert status == ends[0].removeprefix("task.")


async def test_two_assignments_of_one_task_give_it_to_one_agent(
    service: SwarmService, other: SwarmService, settings: Settings
) -> None:
    for n in range(ROUNDS):
        task = await service.tasks.create(TaskSpec(f"one {n}"), "test")
        meet = Meet(settings.database_url)
        made = await _race(
            service.store.write("s1", meet("a", assignment.assign_batch)),
            other.store.write("s2", meet("b", assignment.assign_batch)),
        )
        assert sorted(len(m) for m in made) == [0, 1], made
        assert _kinds(settings, task.id, "task.assigned") == ["task.assigned"]
        prompts = query(settings, "SELECT count(*) FROM messages WHERE task_id = $1", (task.id,))
        assert prompts == [(1,)]
        await service.tasks.complete(task.id, made[0][0].agent if made[0] else made[1][0].agent)


async def test_a_receipt_and_a_requeue_at_once_leave_one_outcome(
    service: SwarmService, other: SwarmService, settings: Settings
) -> None:
    for n in range(ROUNDS):
        task_id = await _assigned(service, f"prompt {n}")
        delivery = await _claimed_prompt(service, task_id)
        meet = Meet(settings.database_url)
        await _race(
            service.store.write(
                "node",
                meet("a", receipts.record_receipt),
                delivery,
                Receipt.delivered("x"),
                service.queue.on_failed_prompt,
            ),
            other.store.write("alice", meet("b", lifecycle.requeue), task_id),
        )
        ends = [
            k
            for k in _kinds(settings, task_id, "delivery.")
            if k in ("delivery.delivered", "delivery.superseded")
        ]
        assert len(ends) == 1, ends  # delivered, or dropped before it was: not both
        (state,) = query(settings, "SELECT state FROM deliveries WHERE id = $1", (delivery.id,))[0]
        assert state == ("delivered" if ends == ["delivery.delivered"] else "failed")
        await service.store.write("cli", lifecycle.cancel, task_id)


async def _waiting_gate(service: SwarmService, n: int) -> int:
    first, gate = await service.tasks.create_many(
        [TaskSpec(f"work {n}", ref="w"), TaskSpec(f"gate {n}", kind="gate", after=("w",))], "test"
    )
    await service.queue.assign_batch()
    await service.tasks.complete(first, (await service.tasks.get(first)).agent or "")
    return gate


async def test_a_gate_approved_and_rejected_at_once_is_one_of_them(
    service: SwarmService, other: SwarmService, settings: Settings
) -> None:
    for n in range(ROUNDS):
        gate = await _waiting_gate(service, n)
        meet = Meet(settings.database_url)
        results = await _race(
            service.store.write("alice", meet("a", runs.approve), gate, ""),
            other.store.write("bob", meet("b", runs.reject), gate, ""),
        )
        assert sum(isinstance(r, InvalidState) for r in results) == 1, results
        decided = _kinds(settings, gate, "gate.")
        assert [k for k in decided if k != "gate.waiting"] in (
            ["gate.approved"],
            ["gate.rejected"],
        ), decided


DIALOG = "Bash command\n  make deploy\nDo you want to proceed?"


def _pane_shows_dialog(conn: Any, ctx: Any) -> None:
    """The watcher's look at Agent-1's pane: the dialog at its input."""
    seen = pane_prompts.PaneDialog(
        "Agent-1", "cc:0", (DIALOG, PERMISSION_OPTIONS), True, "it left the pane"
    )
    pane_prompts.record_pane(conn, ctx, seen, lambda: None, lambda: None)


def _hook_asks(conn: Any, ctx: Any) -> None:
    """Agent-1's PermissionRequest hook for the same dialog."""
    payload = {"tool_name": "Bash", "tool_input": {"command": "make deploy"}}
    hooks.open_hook_prompt(conn, ctx, "Agent-1", "Bash: make deploy", PERMISSION_OPTIONS,
                           payload, task_id=None, session="s", hook=None,
                           expires_at=None)  # fmt: skip


async def test_a_dialogs_hook_and_its_pane_at_once_are_one_item(
    service: SwarmService, other: SwarmService, settings: Settings
) -> None:
    """The hook's prompt of a dialog and the pane's look that shows it, written at once by
    two processes (a node's watcher and the coordinator's hook socket; 2 ms apart in the
    mixed day): each looked for the other's item before it was committed, and the person got
    two items for one dialog. One waits for the other now: one item, the hook's."""
    for n in range(ROUNDS):
        meet = Meet(settings.database_url)
        await asyncio.gather(
            service.store.write("watch", meet("a", _pane_shows_dialog)),
            other.store.write("hook", meet("b", _hook_asks)),
        )
        left = await service.store.read(prompts.open_prompts, "Agent-1")
        assert [p.source.value for p in left] == ["hook"], (n, left)
        for p in left:
            await service.store.write("test", prompts.close, p.id, "next round")


async def test_the_last_task_done_as_a_task_is_added_leaves_the_campaign_open(
    service: SwarmService, other: SwarmService, settings: Settings
) -> None:
    for n in range(ROUNDS):
        last = await _assigned(service, f"last {n}")
        added = await service.tasks.create(TaskSpec(f"added {n}"), "test")  # not assigned
        campaign = await service.store.write("test", campaigns.create, f"c{n}", [last])
        meet = Meet(settings.database_url)
        await _race(
            service.store.write("agent", meet("a", lifecycle.complete), last, "", True),
            other.store.write("alice", meet("b", campaigns.add), campaign, [added.id]),
        )
        rows = query(settings, "SELECT finished_at FROM campaigns WHERE id = $1", (campaign,))
        assert rows == [(None,)], f"C-{campaign} finished with T-{added.id} still open"
        await service.store.write("cli", campaigns.cancel, campaign)


async def test_a_task_created_after_a_dependency_that_finishes_at_once_is_ready(
    service: SwarmService, other: SwarmService, settings: Settings
) -> None:
    for n in range(ROUNDS):
        dep = await _assigned(service, f"dep {n}")
        meet = Meet(settings.database_url)
        results = await _race(
            service.store.write("agent", meet("a", lifecycle.complete), dep, "", True),
            other.store.write(
                "alice", meet("b", creation.create_tasks), [TaskSpec(f"n{n}", after=(dep,))]
            ),
        )
        (new,) = next(r for r in results if isinstance(r, list))
        (status,) = query(settings, "SELECT status FROM tasks WHERE id = $1", (new,))[0]
        assert status == "ready", f"T-{new} is {status} after T-{dep} was done"
        await service.store.write("cli", lifecycle.cancel, new)


async def test_two_dependencies_done_at_once_make_their_dependent_ready(
    service: SwarmService, other: SwarmService, settings: Settings
) -> None:
    for n in range(ROUNDS):
        one = await _assigned(service, f"one {n}")
        two = await _assigned(service, f"two {n}")
        after = await service.tasks.create(TaskSpec(f"after {n}", after=(one, two)), "test")
        meet = Meet(settings.database_url)
        await _race(
            service.store.write("agent", meet("a", lifecycle.complete), one, "", True),
            other.store.write("agent", meet("b", lifecycle.complete), two, "", True),
        )
        (status,) = query(settings, "SELECT status FROM tasks WHERE id = $1", (after.id,))[0]
        assert status == "ready", f"T-{after.id} is {status} after T-{one} and T-{two} were done"
        await service.store.write("cli", lifecycle.cancel, after.id)


def _hold_xid_then_event(conn: Any, ctx: Any, steps: dict[str, threading.Event]) -> None:
    """Take a transaction id first (a write), wait, write the event later (a higher id)."""
    conn.execute("UPDATE swarm_clock SET version = version")
    steps["b_has_xid"].set()
    assert steps["a_has_event"].wait(WAIT_S)
    insert_event(
        conn, ctx.now, cast(EventKind, "test.b"), "b: lower transaction id, higher event id"
    )


def _event_then_linger(conn: Any, ctx: Any, steps: dict[str, threading.Event]) -> None:
    """Write the event now (its row goes to the server at once), commit only when told."""
    assert steps["b_has_xid"].wait(WAIT_S)
    insert_event(conn, ctx.now, cast(EventKind, "test.a"), "a: lower event id, committed last")
    conn.flush_events()  # sends the held row now
    steps["a_has_event"].set()
    assert steps["a_may_commit"].wait(WAIT_S)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_consumer_never_misses_an_event_whose_transaction_commits_late(
    service: SwarmService, other: SwarmService
) -> None:
    steps = {k: threading.Event() for k in ("b_has_xid", "a_has_event", "a_may_commit")}
    late = asyncio.create_task(service.store.write("a", _event_then_linger, steps))
    await other.store.write("b", _hold_xid_then_event, steps)  # commits first, with the higher id
    first = await service.history.events(0, 1000)  # a consumer (the notifier, SSE) reads ...
    cursor = first[-1].id if first else 0  # ... and keeps the last event it handled
    steps["a_may_commit"].set()
    await late
    seen = [e.kind for e in first + await service.history.events(cursor, 1000)]
    assert sorted(k for k in seen if k.startswith("test.")) == ["test.a", "test.b"], seen
    ids = {e.kind: e.id for e in await service.history.find(_all(), 0, 1000)}
    assert ids["test.a"] < ids["test.b"]  # the lower id did commit last


def _all() -> Any:
    from core.history.events import EventFilter

    return EventFilter(kinds=("test",))
