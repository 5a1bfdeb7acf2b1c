"""The one service API that every front end (CLI, Discord bot, scheduler) calls."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from core import event_query, messages, nodes, posts, questions, scheduling, store, tasks
from core.config import load_agents
from core.context import Ctx
from core.db import Store, open_store
from core.killswitch import KillSwitch
from core.models import (
    Agent,
    Delivery,
    Event,
    Receipt,
    Task,
    TaskSpec,
    TaskStatus,
    parse_task_ref,
)
from core.protocols import Clock, Observer, SystemClock
from core.settings import Settings
from core.workspaces.tracker import WorkspaceTracker

if TYPE_CHECKING:
    from core.prompt import PromptFacts

log = logging.getLogger(__name__)
T = TypeVar("T")
RECEIPT_RETRY_FIRST_S = 0.05  # then doubled per try, up to
RECEIPT_RETRY_MAX_S = 5.0


class SwarmService:
    """Tasks, messages, agents and events over one SQLite database."""

    def __init__(self, settings: Settings, agents: list[Agent], db: Store, clock: Clock):
        self.settings = settings
        self.agents = {a.id: a for a in agents}
        self.db = db
        self.clock = clock
        self.kill_switch = KillSwitch(settings.home)
        self.workspaces = WorkspaceTracker(self)
        self._listeners: list[Callable[[], None]] = []
        self.observers: list[Observer] = []  # metrics (bot/web/metrics.py)

    @classmethod
    async def open(cls, settings: Settings, clock: Clock | None = None) -> SwarmService:
        """Load the agents file, open and migrate the database."""
        agents = load_agents(settings.config_path)
        db = await open_store(settings)
        service = cls(settings, agents, db, clock or SystemClock())
        try:
            if await db.read(_missing_agents, list(service.agents)):
                await service.write("swarm", scheduling.ensure_agents)
        except BaseException:
            await db.close()  # the database's thread is not a daemon: never leave it open
            raise
        return service

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every write made through this service."""
        self._listeners.append(callback)

    def observe(self, name: str, value: float, **labels: str) -> None:
        """Tell every observer (metrics); an observer's failure is logged, never raised."""
        for observer in self.observers:
            try:
                observer.observe(name, value, labels)
            except Exception:
                log.exception("observer %r failed on %s", observer, name)

    def ctx(self, actor: str) -> Ctx:
        """A context for a change made now by ``actor``."""
        return Ctx(self.agents, self.settings, self.clock.now(), actor)

    async def write(self, actor: str, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, ctx, *args)`` as one transaction by ``actor``; wake listeners."""
        result: T
        result, changed = await self.db.write(_counting_changes, fn, self.ctx(actor), *args)
        if changed:
            for listener in self._listeners:
                listener()
        return result

    # -- tasks -------------------------------------------------------------------------

    async def create_task(self, spec: TaskSpec, actor: str) -> Task:
        """Create one task; refuse bad input with a SwarmError and write nothing."""
        (task_id,) = await self.write(actor, tasks.create_tasks, [spec])
        return await self.get_task(task_id)

    async def create_tasks(
        self, specs: Sequence[TaskSpec], actor: str, plan_id: str | None = None
    ) -> list[int]:
        """Create a batch of tasks atomically; ``after`` may name other specs' ``ref``."""
        return await self.write(actor, tasks.create_tasks, list(specs), plan_id)

    async def get_task(self, ref: str | int) -> Task:
        """One task by id (``T-12`` or 12)."""
        return await self.db.read(store.get_task, parse_task_ref(ref))

    async def list_tasks(
        self, status: str | None = None, agent: str | None = None, limit: int = 200,
        *, open_only: bool = False,
    ) -> list[Task]:
        """Tasks, newest first, filtered by status (or unfinished ones) and agent."""
        wanted = TaskStatus.parse(status) if status else None
        agent_id = self.ctx("").agent(agent).id if agent else None
        return await self.db.read(store.list_tasks, wanted, agent_id, limit, open_only)

    async def add_dependencies(
        self, ref: str | int, after: Sequence[str | int], actor: str
    ) -> None:
        """Make a task wait for more tasks."""
        ids = [parse_task_ref(a) for a in after]
        await self.write(actor, tasks.add_dependencies, parse_task_ref(ref), ids)

    async def start_task(
        self, ref: str | int, actor: str, note: str = "", *, force: bool = False
    ) -> None:
        """The agent has begun (or reports progress); ``force``: another agent reports anyway."""
        await self.write(actor, tasks.start, parse_task_ref(ref), note, force)

    async def note_task(
        self, ref: str | int, actor: str, note: str, *, force: bool = False
    ) -> None:
        """A progress note on an active task (the handoff carries it to a next agent)."""
        await self.write(actor, tasks.add_note, parse_task_ref(ref), note, force)

    async def complete_task(
        self, ref: str | int, actor: str, note: str = "", *, force: bool = False
    ) -> None:
        """The agent finished the task (its commits, in a workspace, join the history)."""
        task_id = parse_task_ref(ref)
        await self.write(actor, tasks.complete, task_id, note, force)
        await self.workspaces.after_done(task_id, actor)

    async def fail_task(
        self, ref: str | int, actor: str, reason: str, *, force: bool = False
    ) -> None:
        """The agent could not do the task; ``force``: another agent reports anyway."""
        await self.write(actor, tasks.fail, parse_task_ref(ref), reason, force)

    async def cancel_task(self, ref: str | int, actor: str) -> None:
        """Stop a task that has not finished."""
        await self.write(actor, tasks.cancel, parse_task_ref(ref))

    async def retry_task(self, ref: str | int, actor: str) -> None:
        """Give a failed or cancelled task new attempts."""
        await self.write(actor, tasks.retry, parse_task_ref(ref))

    async def assign_task(self, ref: str | int, agent: str, actor: str) -> None:
        """Give a task to one agent (taken from another if needed)."""
        await self.write(actor, tasks.pin, parse_task_ref(ref), agent)

    async def requeue_task(self, ref: str | int, actor: str) -> None:
        """Take an active task from its agent and queue it for another one."""
        await self.write(actor, tasks.requeue, parse_task_ref(ref))

    async def open_tasks(self, prefix: str = "", limit: int = 25) -> list[Task]:
        """Tasks not finished whose id or title starts with / contains ``prefix``."""
        return await self.db.read(store.search_open_tasks, prefix, limit)

    async def find_tasks(self, prefix: str = "", statuses: Sequence[TaskStatus] | None = None,
                         limit: int = 25) -> list[Task]:
        """Tasks in ``statuses`` (None: any) whose id or title starts with / contains
        ``prefix``, newest first (what autocomplete offers)."""
        wanted = [s.value for s in statuses] if statuses is not None else None
        return await self.db.read(store.search_tasks, prefix, wanted, limit)

    async def ask(self, ref: str | int, text: str, actor: str) -> questions.Question:
        """The task's agent asks a question: the task waits for an answer."""
        return await self.write(actor, questions.ask, parse_task_ref(ref), text)

    async def reply(self, ref: str | int, text: str, actor: str) -> questions.Question:
        """Answer the task's oldest open question; the answer goes to its agent."""
        return await self.write(actor, questions.answer, parse_task_ref(ref), text)

    async def open_question(self, ref: str | int) -> questions.Question | None:
        """The task's oldest unanswered question, if any."""
        return await self.db.read(questions.oldest_open, parse_task_ref(ref))

    async def open_questions(self) -> dict[int, questions.Question]:
        """The oldest unanswered question of each active task, by task id."""
        return await self.db.read(questions.open_on_active)

    async def question(self, question_id: int) -> questions.Question:
        """One question by id."""
        return await self.db.read(questions.get_question, question_id)

    # -- messages and agents -----------------------------------------------------------

    async def send(self, agent: str, text: str, actor: str) -> int:
        """Queue a message to one agent; return the message id."""
        return await self.write(actor, messages.send, agent, text)

    async def broadcast(self, text: str, actor: str, role: str | None = None) -> int:
        """Queue a message to all agents (or one role's); return the message id."""
        return await self.write(actor, messages.broadcast, text, role)

    async def deliveries(self, message_id: int | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries, newest first (or all of one message)."""
        return await self.db.read(store.list_deliveries, message_id, limit)

    async def set_agent_paused(self, agent: str, paused: bool, actor: str) -> bool:
        """Pause or resume an agent; False when nothing changed."""
        return await self.write(actor, scheduling.set_paused, agent, paused)

    async def agent_rows(self) -> list[dict[str, Any]]:
        """Each agent with its live state: paused, load, current tasks, last report."""
        rows = await self.db.read(_agent_rows, list(self.agents.values()))
        if not self.settings.database_url:  # nodes serve agents on PostgreSQL only
            for row in rows:
                row["node"] = None
        return rows

    async def pause_input(self, actor: str, reason: str = "") -> None:
        """Engage the kill switch for all desktop input."""
        self.kill_switch.engage(f"{reason or 'paused'} (by {actor})")
        await self.write(actor, _input_event, "input.paused", f"desktop input paused by {actor}")

    async def resume_input(self, actor: str) -> bool:
        """Release the kill switch; False when it was not engaged."""
        released = self.kill_switch.release()
        await self.write(actor, _input_event, "input.resumed", f"desktop input resumed by {actor}")
        return released

    # -- scheduling --------------------------------------------------------------------

    async def assign_next(self, actor: str = "scheduler") -> scheduling.Assignment | None:
        """One assignment decision."""
        return await self.write(actor, scheduling.assign_next)

    async def assign_batch(self, actor: str = "scheduler") -> list[scheduling.Assignment]:
        """Assignment decisions until nothing more fits, in one transaction."""
        return await self.write(actor, scheduling.assign_batch)

    async def expire_leases(self, actor: str = "scheduler") -> int:
        """Requeue or fail tasks whose lease ran out."""
        return await self.write(actor, scheduling.expire_leases)

    async def claim_delivery(self, actor: str = "delivery") -> Delivery | None:
        """Take the next due delivery."""
        return await self.write(actor, messages.claim)

    async def claim_prompt(
        self, actor: str = "delivery"
    ) -> tuple[Delivery, PromptFacts | None] | None:
        """Take the next due delivery with what its prompt needs (one trip to the database);
        None at once when delivery nodes serve every agent (nothing is this process's)."""
        if self.settings.database_url and all(a.node for a in self.agents.values()):
            return None
        return await self.write(actor, _claim_with_facts)

    async def record_receipt(
        self, delivery: Delivery, receipt: Receipt, actor: str = "delivery",
        *, onboarded: bool = False,
    ) -> str:
        """Store how a delivery went (``onboarded``: it carried its agent's onboarding). A
        database that stays locked (or full) past the busy timeout is retried with backoff
        until the receipt lands: a delivery this process owns never stays ``delivering``
        without an outcome."""
        from core.onboarding import record_receipt_onboarded

        record = record_receipt_onboarded if onboarded else scheduling.record_receipt
        delay = RECEIPT_RETRY_FIRST_S
        while True:
            try:
                return await self.write(actor, record, delivery, receipt)
            except sqlite3.OperationalError as exc:
                log.warning("receipt of delivery %d not written (%s); retrying in %.2g s",
                            delivery.id, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECEIPT_RETRY_MAX_S)

    async def recover(self, actor: str = "swarm") -> int:
        """Put interrupted deliveries back in the queue (start-up after a crash)."""
        return await self.write(actor, messages.recover)

    async def next_deadline(self) -> float | None:
        """When the next lease, backoff or delayed delivery falls due."""
        return await self.db.read(scheduling.next_deadline, self.clock.now())

    async def data_version(self) -> int:
        """Changes when another connection (another process) commits."""
        return await self.db.read(_data_version)

    # -- reading -----------------------------------------------------------------------

    async def events(
        self, after_id: int = 0, limit: int = 100, task: str | int | None = None
    ) -> list[Event]:
        """Events after ``after_id``, oldest first (optionally of one task)."""
        task_id = parse_task_ref(task) if task is not None else None
        return await self.db.read(store.events_after, after_id, limit, task_id)

    async def find_events(self, flt: event_query.EventFilter, after_id: int = 0,
                          limit: int = 100, newest: bool = False) -> list[Event]:
        """Events matching ``flt`` after ``after_id``, oldest first (``newest``: the last
        ``limit`` of them)."""
        return await self.db.read(event_query.find_events, flt, after_id, limit, newest)

    async def cursor(self, consumer: str) -> int:
        """The last event id a consumer (e.g. the Discord notifier) has handled."""
        return await self.db.read(store.get_cursor, consumer)

    async def set_cursor(self, consumer: str, event_id: int) -> None:
        """Remember that ``consumer`` has handled events up to ``event_id``."""
        await self.db.write(store.set_cursor, consumer, event_id)

    async def post(self, key: str) -> posts.Post | None:
        """The live post stored under ``key`` (``task:3``, ``message:5``), if any."""
        return await self.db.read(posts.get_post, key)

    async def save_post(self, post: posts.Post, consumer: str, cursor: int) -> None:
        """Store a live post and advance ``consumer``'s cursor in one transaction."""
        await self.db.write(posts.save_post, post, consumer, cursor)

    async def task_of_thread(self, channel_id: int) -> int | None:
        """The task whose Discord thread (or message) has this id, if any."""
        return await self.db.read(posts.task_of_thread, channel_id)

    async def message_progress(self, message_id: int) -> posts.Progress:
        """How many of a message's deliveries were delivered or failed, of how many."""
        return await self.db.read(posts.message_progress, message_id)

    async def audit(
        self, user_id: int | str, user_name: str, command: str, allowed: bool, outcome: str = ""
    ) -> None:
        """Record who ran what, allowed or refused."""
        await self.db.write(store.insert_audit, self.clock.now(), str(user_id), user_name,
                            command, allowed, outcome)

    async def audit_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit rows, newest first."""
        return await self.db.read(store.audit_rows, limit)

    async def last_events(self, limit: int = 20) -> list[Event]:
        """The newest events, oldest first."""
        return await self.db.read(store.last_events, limit)

    async def status(self) -> dict[str, Any]:
        """Overview: tasks per status, deliveries per state, agents, input pause."""
        tasks_by, deliveries_by = await self.db.read(_counts)
        overview = {
            "tasks": tasks_by,
            "deliveries": deliveries_by,
            "agents": await self.agent_rows(),
            "input_paused": self.kill_switch.reason(),
        }
        found = await self.db.read(nodes.node_rows)
        if found:  # delivery nodes (PostgreSQL)
            overview["nodes"] = found
        return overview


def _counting_changes(
    conn: sqlite3.Connection, fn: Callable[..., T], *args: Any
) -> tuple[T, bool]:
    before = conn.total_changes
    result = fn(conn, *args)
    return result, conn.total_changes != before


def _missing_agents(conn: sqlite3.Connection, ids: list[str]) -> bool:
    known = {r[0] for r in conn.execute("SELECT id FROM agent_state")}
    return not set(ids) <= known


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _counts(conn: sqlite3.Connection) -> tuple[dict[str, int], dict[str, int]]:
    return store.status_counts(conn), store.delivery_counts(conn)


def _input_event(conn: sqlite3.Connection, ctx: Ctx, kind: str, text: str) -> None:
    store.insert_event(conn, ctx.now, kind, text, actor=ctx.actor)


def _agent_rows(conn: sqlite3.Connection, agents: list[Agent]) -> list[dict[str, Any]]:
    from core.watch.alerts import open_kinds  # the watcher's alerts (a light import)

    state = {r["id"]: r for r in conn.execute("SELECT * FROM agent_state")}
    alerts = open_kinds(conn)
    holding: dict[str, list[str]] = {}
    for task_id, agent in conn.execute(
        "SELECT id, assignee FROM tasks WHERE status IN ('assigned', 'in_progress') ORDER BY id"
    ):
        holding.setdefault(agent, []).append(f"T-{task_id}")
    rows = []
    for agent in agents:
        st = state.get(agent.id)
        current = holding.get(agent.id, [])
        paused = bool(st["paused"]) if st else False
        flags = [k for k in ("unreachable", "stalled") if k in alerts.get(agent.id, ())]
        rows.append({
            "id": agent.id,
            "role": agent.role,
            "capabilities": list(agent.capabilities),
            "state": flags[0] if flags else "paused" if paused else (
                "working" if current else "idle"),
            "alerts": sorted(alerts.get(agent.id, ())),
            "paused": paused,
            "tasks": current,
            "capacity": agent.capacity,
            "score": round(st["score"], 3) if st else 1.0,
            "done": st["done_count"] if st else 0,
            "failed": st["fail_count"] if st else 0,
            "last_report_at": st["last_report_at"] if st else None,
            "input": list(agent.input) if agent.input else None,
            "delivery": agent.delivery,
            "node": agent.node,
        })
    return rows


def _claim_with_facts(
    conn: sqlite3.Connection, ctx: Ctx
) -> tuple[Delivery, PromptFacts | None] | None:
    from core.prompt import read_facts

    delivery = messages.claim(conn, ctx)
    return None if delivery is None else (delivery, read_facts(conn, delivery))
