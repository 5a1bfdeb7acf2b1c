"""Stall rules: one watch tick over the database at one moment (``ctx.now``).

Activity is a change of the agent's watched screen region (not one caused by our own
delivery), a report through the CLI (``agent_state.last_report_at``: task start, progress,
done, fail) or an assignment. An agent with an active task and no activity for
``stall_after`` is stalled: an alert is opened and it is nudged, at most ``max_nudges`` times
per set of tasks and ``nudge_cooldown`` apart; after ``reassign_after`` without activity its
tasks go back to the queue. An agent without an active task, or within ``grace`` of an
assignment, is never nudged. The stall clock starts at the latest of: the last activity, the
prompt's delivery plus ``grace``, and the first frame the watcher took of the agent, so an
agent is judged stalled only after it was *observed* unchanged for ``stall_after``. Agents
whose last deliveries all failed are unreachable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from core.context import Ctx
from core.delivery.envelope import swarm_command
from core.models import task_ref
from core.store.alerts import STALLED, UNREACHABLE, clear_alert, open_alert
from core.store.tables import insert_event
from core.tasks import lifecycle, messages
from core.watch.settings import WatchSettings


@dataclass
class TickReport:
    """What one tick saw and did (agent ids, task ids)."""

    active: list[str] = field(default_factory=list)
    echoes: list[str] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)
    nudged: list[str] = field(default_factory=list)
    reassigned: list[int] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Held:
    id: int
    assigned_at: float
    attempts: int
    max_attempts: int


@dataclass(frozen=True)
class _View:
    agent: str
    tasks: list[_Held]
    last_activity: float
    watched: str | None
    nudges: int
    last_nudge_at: float | None

    @property
    def key(self) -> str | None:
        """The task set a nudge count belongs to."""
        return ",".join(str(t.id) for t in self.tasks) or None

    @property
    def refs(self) -> str:
        return ", ".join(task_ref(t.id) for t in self.tasks)


def tick(
    conn: sqlite3.Connection,
    ctx: Ctx,
    settings: WatchSettings,
    screen_changed: Iterable[str],
    since: float,
    first_frames: Mapping[str, float] | None = None,
) -> TickReport:
    """Record screen activity, then judge every agent.

    ``since``: when watching began; ``first_frames``: agent -> when its screen was first
    captured (agents watched on screen only).
    """
    report = TickReport()
    _record_screen(conn, ctx, settings, screen_changed, report)
    for view in _views(conn, ctx, settings, since, first_frames or {}):
        _judge(conn, ctx, settings, view, report)
    for agent in ctx.agents:
        _check_reachable(conn, ctx, settings, agent, report)
    return report


def record_screen(
    conn: sqlite3.Connection,
    ctx: Ctx,
    settings: WatchSettings,
    changed: Iterable[str],
    first_seen: Mapping[str, float],
) -> list[str]:
    """A delivery node's part of the tick: the screen activity of its agents (``changed``,
    less our own pastes) and when it first captured each (``first_seen``); the active ones."""
    for agent, seen in first_seen.items():
        conn.execute(
            "INSERT INTO agent_watch (agent_id, screen_seen_at) VALUES (?, ?) "
            "ON CONFLICT(agent_id) DO UPDATE SET screen_seen_at = "
            "excluded.screen_seen_at",
            (agent, seen),
        )
    report = TickReport()
    _record_screen(conn, ctx, settings, changed, report)
    return report.active


def _record_screen(
    conn: sqlite3.Connection,
    ctx: Ctx,
    settings: WatchSettings,
    changed: Iterable[str],
    report: TickReport,
) -> None:
    for agent in changed:
        if _own_echo(conn, ctx, settings, agent):
            report.echoes.append(agent)
            continue
        conn.execute(
            "INSERT INTO agent_watch (agent_id, screen_active_at) VALUES (?, ?) "
            "ON CONFLICT(agent_id) DO UPDATE SET screen_active_at = "
            "excluded.screen_active_at",
            (agent, ctx.now),
        )
        report.active.append(agent)


def _own_echo(conn: sqlite3.Connection, ctx: Ctx, settings: WatchSettings, agent: str) -> bool:
    """True while a delivery to the agent is being pasted, or just was."""
    row = conn.execute(
        "SELECT state, updated_at FROM deliveries WHERE agent_id = ? AND state "
        "IN ('delivering', 'delivered') ORDER BY id DESC LIMIT 1",
        (agent,),
    ).fetchone()
    return row is not None and (row[0] == "delivering" or ctx.now - row[1] <= settings.echo_s)


def _views(
    conn: sqlite3.Connection,
    ctx: Ctx,
    settings: WatchSettings,
    since: float,
    first_frames: Mapping[str, float],
) -> Iterator[_View]:
    held: dict[str, list[_Held]] = {}
    for task_id, agent, assigned_at, attempts, most in conn.execute(
        "SELECT id, assignee, assigned_at, attempts, max_attempts FROM tasks "
        "WHERE status IN ('assigned', 'in_progress') ORDER BY id"
    ):
        held.setdefault(agent, []).append(_Held(task_id, assigned_at or 0.0, attempts, most))
    watch = {
        r[0]: r
        for r in conn.execute(
            "SELECT agent_id, screen_active_at, watched_tasks, "
            "nudges, last_nudge_at, screen_seen_at "
            "FROM agent_watch"
        )
    }
    reports = dict(conn.execute("SELECT id, last_report_at FROM agent_state").fetchall())
    for agent in ctx.agents:
        mine = held.get(agent, [])
        row = watch.get(agent)
        times = [since, reports.get(agent) or 0.0, (row[1] or 0.0) if row else 0.0]
        times += [t.assigned_at for t in mine]
        if mine:
            seen = first_frames.get(agent, (row[5] or since) if row else since)  # node: row
            times += [seen, _delivered_at(conn, agent) + settings.grace_s]
        yield _View(
            agent,
            mine,
            max(times),
            row[2] if row else None,
            row[3] if row else 0,
            row[4] if row else None,
        )


def _delivered_at(conn: sqlite3.Connection, agent: str) -> float:
    """When the agent's latest message arrived (0 when none did)."""
    row = conn.execute(
        "SELECT updated_at FROM deliveries WHERE agent_id = ? AND state = "
        "'delivered' ORDER BY id DESC LIMIT 1",
        (agent,),
    ).fetchone()
    return float(row[0]) if row else 0.0


def _judge(
    conn: sqlite3.Connection, ctx: Ctx, settings: WatchSettings, view: _View, report: TickReport
) -> None:
    if view.key != view.watched:  # another set of tasks: its nudges count from zero
        _set_watched(conn, view.agent, view.key)
        view = _View(view.agent, view.tasks, view.last_activity, view.key, 0, None)
    quiet = ctx.now - view.last_activity
    if not view.tasks or quiet < settings.stall_after_s or _fresh(ctx, settings, view):
        why = "no active task" if not view.tasks else "activity seen"
        _clear(conn, ctx, view.agent, STALLED, f"{view.agent} is no longer stalled: {why}", report)
        return
    report.stalled.append(view.agent)
    text = f"{view.agent} stalled: no activity for {minutes(quiet)} on {view.refs}"
    if open_alert(conn, ctx, view.agent, STALLED, text, view.tasks[0].id):
        report.opened.append(f"{view.agent} {STALLED}")
    if quiet >= settings.reassign_after_s:
        _reassign(conn, ctx, view, quiet, report)
    elif _may_nudge(ctx, settings, view):
        _nudge(conn, ctx, settings, view, quiet, report)


def _fresh(ctx: Ctx, settings: WatchSettings, view: _View) -> bool:
    """Within the grace period after the latest assignment."""
    return ctx.now - max(t.assigned_at for t in view.tasks) < settings.grace_s


def _may_nudge(ctx: Ctx, settings: WatchSettings, view: _View) -> bool:
    if view.nudges >= settings.max_nudges:
        return False
    return view.last_nudge_at is None or ctx.now - view.last_nudge_at >= settings.nudge_cooldown_s


def _nudge(
    conn: sqlite3.Connection,
    ctx: Ctx,
    settings: WatchSettings,
    view: _View,
    quiet: float,
    report: TickReport,
) -> None:
    first = task_ref(view.tasks[0].id)
    swarm = swarm_command(ctx.settings.custom_home)
    text = (
        f"No activity seen from you for {minutes(quiet)} on {view.refs}. If you are still "
        f'working, report progress: {swarm} task start {first} --note "..."; if you are '
        f'stuck, say why: {swarm} task fail {first} --reason "...".'
    )
    message_id = messages.queue(
        conn,
        ctx,
        [view.agent],
        text,
        target=f"{messages.NOTE_TARGET}{view.agent}",
        task_id=view.tasks[0].id,
    )
    conn.execute(
        "UPDATE agent_watch SET nudges = nudges + 1, last_nudge_at = ? WHERE agent_id = ?",
        (ctx.now, view.agent),
    )
    count = view.nudges + 1
    insert_event(
        conn,
        ctx.now,
        "agent.nudged",
        f"{view.agent} nudged ({count}/{settings.max_nudges}) about {view.refs}: "
        f"no activity for {minutes(quiet)}",
        task_id=view.tasks[0].id,
        agent=view.agent,
        actor=ctx.actor,
        data={"message": message_id, "nudge": count},
    )
    report.nudged.append(view.agent)


def _reassign(
    conn: sqlite3.Connection, ctx: Ctx, view: _View, quiet: float, report: TickReport
) -> None:
    why = f"{view.agent} stalled: no activity for {minutes(quiet)}"
    for held in view.tasks:
        if held.attempts >= held.max_attempts:
            lifecycle.fail_held(conn, ctx, held.id, view.agent, f"{why} ({held.attempts} attempts)")
        else:
            lifecycle.release(conn, ctx, held.id, why, backoff=0.0)
        report.reassigned.append(held.id)
    _clear(
        conn,
        ctx,
        view.agent,
        STALLED,
        f"{view.agent}: {view.refs} taken back after {minutes(quiet)} without activity",
        report,
    )
    _set_watched(conn, view.agent, None)


def _set_watched(conn: sqlite3.Connection, agent: str, key: str | None) -> None:
    conn.execute(
        "INSERT INTO agent_watch (agent_id, watched_tasks) VALUES (?, ?) "
        "ON CONFLICT(agent_id) DO UPDATE SET watched_tasks = excluded.watched_tasks, "
        "nudges = 0, last_nudge_at = NULL",
        (agent, key),
    )


def _clear(
    conn: sqlite3.Connection, ctx: Ctx, agent: str, kind: str, text: str, report: TickReport
) -> None:
    if clear_alert(conn, ctx, agent, kind, text):
        report.cleared.append(f"{agent} {kind}")


def _check_reachable(
    conn: sqlite3.Connection, ctx: Ctx, settings: WatchSettings, agent: str, report: TickReport
) -> None:
    """Unreachable: its last N finished deliveries failed; cleared when one gets through."""
    count = settings.unreachable_after
    rows = conn.execute(
        "SELECT state, reason FROM deliveries WHERE agent_id = ? AND state IN ('delivered', "
        "'failed') AND COALESCE(reason, '') != 'superseded' ORDER BY id DESC LIMIT ?",
        (agent, count),
    ).fetchall()
    if len(rows) == count and all(state == "failed" for state, _ in rows):
        text = f"{agent} unreachable: its last {count} deliveries failed ({rows[0][1]})"
        if open_alert(conn, ctx, agent, UNREACHABLE, text):
            report.opened.append(f"{agent} {UNREACHABLE}")
    elif rows and rows[0][0] == "delivered":
        _clear(
            conn,
            ctx,
            agent,
            UNREACHABLE,
            f"{agent} is reachable again: a delivery got through",
            report,
        )


def minutes(seconds: float) -> str:
    """``45 s``, ``10 min`` or ``1.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
