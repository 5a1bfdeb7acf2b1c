"""Alerts: a condition of one agent (stalled, unreachable, unjudged, unreported, hooks
silent, a screen swarm does not know, its input not on its pane), opened once and cleared once.

Each change writes an ``alert.opened`` or ``alert.cleared`` event in the same transaction;
the Discord notifier routes ``alert.*`` events to the alerts channel.
"""

from __future__ import annotations

from core.agents import _alert_queries as alert_queries
from core.agents._alert_queries import Alert as Alert
from core.context import Ctx
from core.event_kinds import EventKind
from core.history.event_queries import watch_counts
from core.store.conn import Conn
from core.store.tables import insert_event

STALLED = "stalled"
UNREACHABLE = "unreachable"
UNJUDGED = "unjudged"  # an agent's state cannot be judged from its stored rows
UNREPORTED = "unreported"  # its turn ended again without a report after a nudge (Needs you)
STOPPED = "stopped"  # a person stopped its turn: it waits on its task for what next (Needs you)
HOOKS_SILENT = "hooks_silent"  # hooks swarm installed sent nothing after its first turn
UNKNOWN_SCREEN = "unknown-screen"  # its pane shows a screen no rule knows (core.watch.text_signal)
INPUT_UNSEEN = "input-unseen"  # a delivery found its input not on its pane (core.delivery)
MESSAGES_WAIT = "messages-wait"  # messages wait for an agent whose session is gone
HELD_BEHIND_TURN = "held-behind-turn"  # messages wait long behind a turn that does not end
HOST_REFUSALS = "host-refusals"  # the agent's processes keep calling its host's socket
SANDBOX_FAILED = "sandbox-failed"  # its CLI's own sandbox failed (core.watch.text_signal)
SESSION_LOST = "session-lost"  # its saved session could not be loaded: its conversation lost
GATEWAY_DOWN = "gateway-down"  # its sandbox's model gateway is not running: it is errored
GIT_REFUSED = "git-refused"  # swarm refused what its git store held (core.watch.store_folds)
# the first refusal of a host by its egress proxy, "host-refused:HOST:PORT" (Needs you: allow
# or deny it); a kind once opened is never opened again (core.watch.gateways)
HOST_REFUSED = "host-refused:"
# an agent with one of these open gets no new task (core.assignment._passes.free_agents)
HOLDING = (UNJUDGED, UNKNOWN_SCREEN, INPUT_UNSEEN, GATEWAY_DOWN)


def open_alert(
    conn: Conn, ctx: Ctx, agent: str, kind: str, text: str, task_id: int | None = None
) -> bool:
    """Open the alert unless it is already open; True when it was opened now."""
    opened = alert_queries.insert_open(conn, agent, kind, text, ctx.now)
    if opened is None:
        return False
    insert_event(
        conn,
        ctx.now,
        EventKind.ALERT_OPENED,
        text,
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={"alert": opened, "kind": kind},
    )
    return True


def say_open(conn: Conn, agent: str, kind: str, text: str) -> bool:
    """``agent``'s open alert of ``kind`` (its "Needs you" item) says ``text`` now, no event:
    what changed about a condition still on; True when its words changed."""
    return alert_queries.set_open_text(conn, agent, kind, text)


def clear_alert(
    conn: Conn, ctx: Ctx, agent: str, kind: str, text: str, opened_by: float | None = None
) -> bool:
    """Clear the open alert, if any (``opened_by``: only one opened by then); True when one
    was cleared now."""
    row = alert_queries.open_row(conn, agent, kind)
    if row is None or (opened_by is not None and row.opened_at > opened_by):
        return False
    _cleared(conn, ctx, agent, kind, row, text)
    return True


def clear_alerts(conn: Conn, ctx: Ctx, agent: str, texts: dict[str, str]) -> None:
    """Clear ``agent``'s open alerts of the kinds of ``texts``, each saying its text (one
    read for all: a turn's end clears several, and most are not open)."""
    for row in alert_queries.open_of(conn, agent, tuple(texts)):
        _cleared(conn, ctx, agent, row.kind, row, texts[row.kind])


def _cleared(
    conn: Conn, ctx: Ctx, agent: str, kind: str, row: alert_queries.OpenAlert, text: str
) -> None:
    alert_queries.mark_cleared(conn, row.id, ctx.now, text)
    insert_event(
        conn,
        ctx.now,
        EventKind.ALERT_CLEARED,
        text,
        agent=agent,
        actor=ctx.actor,
        data={"alert": row.id, "kind": kind, "open_s": round(ctx.now - row.opened_at, 1)},
    )


def ever_opened(conn: Conn, agent: str, kind: str) -> bool:
    """Whether ``agent`` ever had an alert of ``kind`` (open or cleared)."""
    return alert_queries.ever_opened(conn, agent, kind)


def open_text(conn: Conn, agent: str, kind: str) -> str | None:
    """The text of ``agent``'s open alert of ``kind``, None when none is open."""
    return alert_queries.open_text(conn, agent, kind)


def open_kinds(conn: Conn) -> dict[str, set[str]]:
    """Agent id -> kinds of its open alerts."""
    found: dict[str, set[str]] = {}
    for agent, kind in alert_queries.open_pairs(conn):
        found.setdefault(agent, set()).add(kind)
    return found


class OpenAlerts:
    """The open alerts, read once for a pass over every agent (the watch tick), so that
    clearing an alert that is not open costs no statement: ``clear`` looks up only the
    alerts open at the read or opened through ``open`` since. An alert another process
    opens meanwhile is cleared by the next pass."""

    def __init__(self, conn: Conn) -> None:
        self.kinds = open_kinds(conn)

    def has(self, agent: str, kind: str) -> bool:
        """Whether ``agent``'s alert of ``kind`` may be open."""
        return kind in self.kinds.get(agent, ())

    def open(
        self, conn: Conn, ctx: Ctx, agent: str, kind: str, text: str, task_id: int | None = None
    ) -> bool:
        """:func:`open_alert`, kept as open."""
        self.kinds.setdefault(agent, set()).add(kind)
        return open_alert(conn, ctx, agent, kind, text, task_id)

    def clear(
        self,
        conn: Conn,
        ctx: Ctx,
        agent: str,
        kind: str,
        text: str,
        opened_by: float | None = None,
    ) -> bool:
        """:func:`clear_alert` when it may be open; True when one was cleared now."""
        if not self.has(agent, kind):
            return False
        cleared = clear_alert(conn, ctx, agent, kind, text, opened_by)
        if cleared or opened_by is None:
            self.kinds[agent].discard(kind)
        return cleared


def list_alerts(conn: Conn, include_cleared: bool = False, limit: int = 100) -> list[Alert]:
    """Open alerts (or all, newest first) as rows."""
    return alert_queries.rows(conn, include_cleared, limit)


def digest(conn: Conn, since: float, until: float) -> str:
    """One line for the summary: stalls per agent, nudges, tasks taken back, unreachable."""
    stalls = alert_queries.opened_per_agent(conn, STALLED, since, until)
    unreachable = alert_queries.opened_count(conn, UNREACHABLE, since, until)
    conn.flush_events()
    nudges, taken = watch_counts(conn, since, until)
    per_agent = ", ".join(f"{agent} {n}" for agent, n in stalls)
    return (
        f"watcher: {sum(n for _, n in stalls)} stall(s)"
        + (f" ({per_agent})" if per_agent else "")
        + f", {nudges or 0} nudge(s), {taken or 0} task(s) taken back, "
        f"{unreachable} unreachable alert(s)"
    )
