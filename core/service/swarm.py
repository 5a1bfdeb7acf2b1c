"""The one service API that every front end (CLI, Discord bot, scheduler) calls."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any, TypeVar

from core.access import TokenBook
from core.agent_state import SIGNAL_ORDER
from core.agents import SignalBook, TranscriptBook, limits, list_alerts
from core.agents import judge as agent_judge
from core.agents import queries as agent_queries
from core.agents import signals as agent_signals
from core.agents_file import load_agents
from core.assignment import OnFailedPrompt, QueueBook, RosterBook, TaskBook, ensure_agents
from core.context import Ctx
from core.costs import usage_place
from core.delivery import KillSwitch, MessageBook, message_queries
from core.delivery import queries as delivery_queries
from core.dialogs import permissions as prompts
from core.errors import InvalidInput
from core.event_kinds import EventKind
from core.github.service import GitHubBook
from core.history.service import HistoryBook
from core.inbox.service import InboxBook
from core.models import (
    Agent,
)
from core.posts.service import PostBook
from core.protocols import Clock, Observer, SystemClock
from core.questions import QuestionBook
from core.reports.service import ReportBook
from core.reservations import ReservationBook
from core.reviews import ReviewBook
from core.service.costs import CostBook
from core.settings import Settings
from core.store import tables
from core.store.access import StoreAccess
from core.store.conn import Conn
from core.store.sqlite import Store, open_store
from core.tasks import held, read_queries
from core.tmux import PaneRef, capture
from core.workflows.service import WorkflowBook
from core.workspaces import WorkspaceBook

if TYPE_CHECKING:
    from pathlib import Path


log = logging.getLogger(__name__)
PANE_LINES = 20  # lines of a tmux agent's pane shown on its card
MAX_PANE_LINES = 500
T = TypeVar("T")


class SwarmService:
    """The front ends' API: a holder of the feature services over one store.

    It does not run transactions for its callers: ``store`` (a ``StoreAccess``) is what the
    feature services (the books) and core's own services write through; a front end calls a
    named operation of a book (``service.questions.ask(...)``) or of this class.
    """

    def __init__(self, settings: Settings, agents: list[Agent], db: Store, clock: Clock):
        self.store = StoreAccess(settings, agents, db, clock)
        store = self.store
        self.ctx = store.ctx  # the configured agents, as a change sees them
        self.resolve_agent = store.resolve_agent
        self.roles = store.roles
        self.on_change = store.on_change  # woken after every write (the notifier, the board)
        self.observe = store.observe  # timed work, told to the observers (metrics)
        self.kill_switch = KillSwitch(settings.home)
        self.workspaces = WorkspaceBook(store)
        # what the scheduler and delivery nodes call; a task prompt that could not be
        # delivered goes back to the lifecycle
        self.queue = QueueBook(store, OnFailedPrompt())
        self.questions = QuestionBook(store)
        self.posts = PostBook(store)  # the Discord notifier's live posts and cursors
        self.reviews = ReviewBook(store, self.workspaces)  # review comments sent to agents
        # file reservations; a too wide one waits for a person as a held item
        self.reservations = ReservationBook(store, self.workspaces.tracked_files, held.hold)
        self.tasks = TaskBook(store, self.workspaces)  # create, report on, change tasks
        self.inbox = InboxBook(store)  # what needs a person, and the answers
        self.history = HistoryBook(store)  # events and audit rows
        self.messages = MessageBook(store)  # messages to agents and their deliveries
        self.roster = RosterBook(store)  # each agent's row, and its pause
        self.costs = CostBook(store)  # what turns cost, and the budgets
        self.reports = ReportBook(store)  # the board, task lists, snapshots (reads only)
        self.transcripts = TranscriptBook(store)  # what protocol agents said, by turn
        self.signals = SignalBook(store)  # agents' hooks, observations and alerts
        self.tokens = TokenBook(store)  # the dashboard's and MCP's tokens
        self.workflows = WorkflowBook(store)  # workflows, campaigns and their gates
        self.github = GitHubBook(store)  # the issues followed, CI choices, webhook deliveries

    @property
    def settings(self) -> Settings:
        """The settings the store was opened with (``replace_agents`` may change the path)."""
        return self.store.settings

    @property
    def agents(self) -> dict[str, Agent]:
        """The configured agents by id (one dict, changed in place on a reload)."""
        return self.store.agents

    @property
    def clock(self) -> Clock:
        """The clock every change is dated by."""
        return self.store.clock

    @property
    def observers(self) -> list[Observer]:
        """Who is told of timed work (metrics: ``bot/web/metrics.py``)."""
        return self.store.observers

    @property
    def read_only(self) -> str | None:
        """Why the store only reads (a command that only reads, on a full disk), else None."""
        return self.store.read_only

    @property
    def listens(self) -> bool:
        """Whether other processes' writes can wake this one at once (PostgreSQL's NOTIFY)."""
        return self.store.listens

    @classmethod
    async def open(
        cls,
        settings: Settings,
        clock: Clock | None = None,
        *,
        readers: int | None = None,
        reads_only: bool = False,
    ) -> SwarmService:
        """Load the agents file, open and migrate the database (``readers``: ``open_store``'s:
        0 for a delivery node, which reads on its write connection; ``reads_only``: for a
        command that only reads, which may then get a store that only reads: a full disk)."""
        agents = load_agents(settings.config_path)
        db = await open_store(settings, readers=readers, reads_only=reads_only)
        service = cls(settings, agents, db, clock or SystemClock())
        try:
            if db.read_only is None and await db.read(_missing_agents, list(service.agents)):
                await service.store.write("swarm", ensure_agents)
        except BaseException:
            await db.close()  # the database's thread is not a daemon: never leave it open
            raise
        return service

    async def replace_agents(self, agents: list[Agent], path: Path) -> str:
        """The agents file changed (``path``, already checked): use its agents from now on
        (the same dict, changed in place: every part reads it); what changed, in words."""
        new = {a.id: a for a in self.store.as_served(agents)}
        added = [a for a in new if a not in self.agents]
        removed = [a for a in self.agents if a not in new]
        changed = [a for a in new if a in self.agents and self.agents[a] != new[a]]
        self.agents.clear()
        self.agents.update(new)
        if path != self.settings.config_path:
            self.store.settings = dataclasses.replace(self.settings, config_path=path)
        if added:
            await self.store.write("swarm", ensure_agents)
        if changed:  # a route written (desktop up): what waits for them goes by it now
            await self.store.write("swarm", _due_now, changed)
        parts = [
            f"{label} {', '.join(ids)}"
            for label, ids in (("added", added), ("removed", removed), ("changed", changed))
            if ids
        ]
        return f"{len(new)} agents" + (f" ({'; '.join(parts)})" if parts else " (no change)")

    async def close(self) -> None:
        """Close the database."""
        await self.store.close()

    # -- agents -----------------------------------------------------------------------

    async def pause_input(self, actor: str, reason: str = "") -> None:
        """Engage the kill switch for all desktop input."""
        self.kill_switch.engage(f"{reason or 'paused'} (by {actor})")
        await self.store.write(
            actor, _input_event, EventKind.INPUT_PAUSED, f"desktop input paused by {actor}"
        )

    async def resume_input(self, actor: str) -> bool:
        """Release the kill switch; False when it was not engaged."""
        released = self.kill_switch.release()
        await self.store.write(
            actor, _input_event, EventKind.INPUT_RESUMED, f"desktop input resumed by {actor}"
        )
        return released

    # -- reading -----------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """Overview: tasks per status, deliveries per state, agents, input pause."""
        tasks_by, deliveries_by = await self.store.read(_counts)
        overview = {
            "tasks": tasks_by,
            "deliveries": deliveries_by,
            "agents": await self.roster.rows(),
            "input_paused": self.kill_switch.reason(),
        }
        overview["limited"] = await self.store.read(
            _limits, list(self.agents), self.clock.now(), self.settings.limit_backoff_s
        )
        found = await self.store.read(delivery_queries.node_rows)
        if found:  # delivery nodes (PostgreSQL)
            overview["nodes"] = [dataclasses.asdict(node) for node in found]
        return overview

    # -- terminal text (tmux agents) -------------------------------------------------------

    async def pane_lines(self, agent_id: str, count: int = PANE_LINES) -> dict[str, Any]:
        """The last ``count`` lines of a tmux agent's pane, control characters escaped (the
        agent card, ``swarm agents explain``): ``{"agent", "tmux", "lines", "gone"}``, where
        ``gone`` says why the pane could not be read. InvalidInput without a tmux pane."""
        agent = self.resolve_agent(agent_id)
        if agent.tmux is None:
            raise InvalidInput(
                f'{agent.id} has no tmux pane in the agents file (tmux = "session:window")'
            )
        if not 1 <= count <= MAX_PANE_LINES:
            raise InvalidInput(f"lines must be from 1 to {MAX_PANE_LINES}, not {count}")
        read = await asyncio.to_thread(capture, PaneRef(agent.tmux, agent.tmux_socket))
        return {"agent": agent.id, "tmux": agent.tmux, "lines": read.last(count), "gone": read.gone}

    # -- agent state -----------------------------------------------------------------------

    async def explain_agent(self, agent: str) -> dict[str, Any]:
        """``agent``'s state, since when, what decided it and each signal's latest evidence."""
        found = self.ctx("").agent(agent)
        shown = await self.store.read(_explain, found.id, self.clock.now())
        said = await asyncio.to_thread(
            usage_place.usage_said, found, self.settings.cli_dirs, self.settings.home
        )
        return {**shown, "usage": said}


def _missing_agents(conn: Conn, ids: list[str]) -> bool:
    return not set(ids) <= agent_queries.known_ids(conn)


def _counts(conn: Conn) -> tuple[dict[str, int], dict[str, int]]:
    return read_queries.status_counts(conn), message_queries.delivery_counts(conn)


def _explain(conn: Conn, agent: str, now: float) -> dict[str, Any]:

    decided = agent_signals.get_state(conn, agent)
    seen = agent_signals.observations(conn, [agent], unreadable={}).get(agent, {})
    active = agent_signals.active_times(conn).get(agent, {})
    return {
        "agent": agent,
        **decided.to_json(),
        "checked_at": now,
        "signals": [
            {
                "signal": obs.signal.value,
                "state": obs.state.value,
                "seen_at": obs.at,
                "evidence": obs.evidence,
                "until": obs.until,
                "active_at": active.get(obs.signal),
            }
            for obs in (seen[s] for s in SIGNAL_ORDER if s in seen)
        ],
        "waiting_for": agent_judge.waiting_for(conn, agent),
        "prompts": [p.to_json() for p in prompts.open_prompts(conn, agent)],
        "alerts": [a.to_json() for a in list_alerts(conn) if a.agent == agent],
    }


def _limits(conn: Conn, agents: list[str], now: float, backoff_s: float) -> dict[str, Any]:
    """Agents held by a usage limit (and until when); ``all``: every agent is, so the queue
    waits until the earliest reset (``until``) instead of looking stuck."""

    ends = {a: t for a, t in limits(conn, now, backoff_s).ends.items() if a in agents}
    every = bool(agents) and set(agents) <= set(ends)
    return {
        "agents": [{"agent": a, "until": ends[a]} for a in agents if a in ends],
        "all": every,
        "until": min(ends.values()) if every else None,
    }


def _input_event(conn: Conn, ctx: Ctx, kind: EventKind, text: str) -> None:
    tables.insert_event(conn, ctx.now, kind, text, actor=ctx.actor)


def _due_now(conn: Conn, ctx: Ctx, agents: list[str]) -> None:
    """What waits for ``agents`` (put off while they were busy or offline) is due now."""
    for agent in agents:
        message_queries.due_now(conn, agent, ctx.now)
