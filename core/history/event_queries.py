"""Named reads of the event log (``core.history.events`` holds its filter and its reads):
the events after a consumer's cursor and the newest ones (``row_to_event``: an ``events``
row as an ``Event``), the count of those matching a filter, the watcher's nudges and tasks
taken back in a window, an agent's newest limit and state changes, a task's events, the
events of a kind (GitHub's reviews posted, its webhooks, a follow-up's link, a CI choice);
the reports' counts (nudges per agent, events per hour, the notable ones); the fragments of
``events`` that other features' statements compose. Events are written through the store's
outbox (``core.store.tables.insert_event``), in the transaction of the change they tell."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from core.event_kinds import EventKind
from core.models import Event
from core.store.conn import Conn, Pair, Row, Sql, in_list, listed, sql, sql_pair, values
from core.store.tables import NEWEST_FIRST, READABLE, Unseen
from core.tasks import DONE_IDS, TASKS_OF_CAMPAIGN

# The ``events`` fragments other features' statements compose (the table is the history's
# alone); each is spliced into one statement, so no round trip is added.

# whether another agent than delivery ``d``'s was ever assigned the task of message ``m``
HANDED_OVER_OF_DELIVERY = (
    "EXISTS (SELECT 1 FROM events e WHERE e.task_id = m.task_id "
    f"AND e.kind = '{EventKind.TASK_ASSIGNED}' AND e.agent_id <> d.agent_id) "
)
# whether another agent than ``:agent`` was ever assigned task ``:task_id``
HANDED_OVER_PARAM = (
    "EXISTS (SELECT 1 FROM events WHERE task_id = :task_id "
    f"AND kind = '{EventKind.TASK_ASSIGNED}' AND agent_id <> :agent) "
)
# the head of an insert of event rows selected after it (the outbox's columns)
INSERT_HEAD = "INSERT INTO events (ts, kind, text, task_id, agent_id, actor, data) "

WATCH_COUNTS = sql(
    f"SELECT COUNT(*) FILTER (WHERE kind = '{EventKind.AGENT_NUDGED}') AS nudges, "
    f"COUNT(*) FILTER (WHERE kind IN ('{EventKind.TASK_REQUEUED}', "
    f"'{EventKind.TASK_FAILED}')) AS taken "
    "FROM events WHERE actor = 'watch' AND ts >= :since AND ts <= :until"
)
NEWEST_OF_KINDS = sql(
    "SELECT kind, data, ts FROM events WHERE agent_id = :agent "
    "AND kind IN (:kind1, :kind2, :kind3) ORDER BY id DESC LIMIT 1"
)
STATE_CHANGES = sql(
    "SELECT data FROM events WHERE agent_id = :agent AND kind = :kind AND ts >= :since "
    "AND ts < :before ORDER BY id DESC LIMIT :limit"
)
OF_TASK = sql(
    "SELECT kind, text, agent_id AS agent, data FROM events WHERE task_id = :task_id ORDER BY id"
)
NEWEST_REVIEWS = sql(
    f"SELECT id, task_id, actor, data FROM events WHERE kind = '{EventKind.TASK_REVIEW}' "
    "ORDER BY id DESC LIMIT :limit"
)
DATA_OF_KIND = sql("SELECT data FROM events WHERE kind = :kind")
NEWEST_ID_OF_KIND = sql("SELECT max(id) AS id FROM events WHERE kind = :kind")
FOLLOWUP = sql(
    f"SELECT data FROM events WHERE kind = '{EventKind.GITHUB_FOLLOWUP}' "
    "AND task_id = :task_id LIMIT 1"
)
CI_DECIDED = sql(
    f"SELECT actor, text, data FROM events WHERE kind = '{EventKind.GITHUB_CI_DECIDED}' "
    "AND task_id = :task_id ORDER BY id LIMIT 1"
)
NUDGES_PER_AGENT = sql(
    "SELECT agent_id, count(*) AS n FROM events "
    f"WHERE kind = '{EventKind.AGENT_NUDGED}' "
    "AND agent_id IS NOT NULL GROUP BY agent_id"
)
CI_EXHAUSTED = sql(
    f"SELECT data FROM events WHERE kind = '{EventKind.GITHUB_CI_EXHAUSTED}' "
    "AND task_id = :task_id ORDER BY id DESC LIMIT 1"
)


# the events after a consumer's, of one task or of all, and the newest a consumer may read
AFTER = Unseen.of("SELECT * FROM events WHERE {unseen} ORDER BY {order} LIMIT :limit")
AFTER_OF_TASK = Unseen.of(
    "SELECT * FROM events WHERE task_id = :task_id AND {unseen} ORDER BY {order} LIMIT :limit"
)
NEWEST = sql_pair(
    "SELECT * FROM events WHERE {readable} ORDER BY {order} LIMIT :limit",
    readable=READABLE,
    order=NEWEST_FIRST,
)

# The events of a filter (``core.history.events.EventFilter``), each part NULL when not
# asked: at or after ``:since``; of ``:kinds`` (a JSON array: a kind, or a family, the part
# of a kind before its dot, as ``task`` of ``task.created``); whose lower-case text is LIKE
# ``:grep``; with an id up to ``:until_id``.
# SQLite: a kind without a dot has no family ('': its length -1 takes nothing)
_FAMILY = Pair("substr(e.kind, 1, instr(e.kind, '.') - 1)", "split_part(e.kind, '.', 1)")
_KINDS = in_list("kinds")
_FILTER = (
    "(CAST(:since AS DOUBLE PRECISION) IS NULL OR e.ts >= :since) "
    "AND (CAST(:kinds AS TEXT) IS NULL OR e.kind {kinds} OR {family} {kinds}) "
    "AND (CAST(:grep AS TEXT) IS NULL OR lower(e.text) LIKE :grep ESCAPE '\\') "
    "AND (CAST(:until_id AS BIGINT) IS NULL OR e.id <= :until_id)"
)


@dataclass(frozen=True)
class FilterReads:
    """The reads of a filter's events: the oldest after a consumer's event, the newest
    after an id (newest first), and how many there are."""

    after: Unseen
    newest: Pair[Sql]
    count: Pair[Sql]


def _filter_reads(where: str) -> FilterReads:
    """The reads of the events that meet ``where``."""
    return FilterReads(
        Unseen.of(
            f"SELECT * FROM events e WHERE {{unseen}} AND {where} ORDER BY {{order}} LIMIT :limit",
            kinds=_KINDS,
            family=_FAMILY,
        ),
        sql_pair(
            f"SELECT * FROM events e WHERE e.id > :after AND {{readable}} AND {where} "
            "ORDER BY {order} LIMIT :limit",
            readable=READABLE,
            order=NEWEST_FIRST,
            kinds=_KINDS,
            family=_FAMILY,
        ),
        sql_pair(f"SELECT count(*) FROM events e WHERE {where}", kinds=_KINDS, family=_FAMILY),
    )


MATCHING = _filter_reads(_FILTER)
MATCHING_OF_TASK = _filter_reads("e.task_id = :task_id AND " + _FILTER)

# a failure taken back: a later retry of its task, which is done now
_RETRIED_THEN_DONE = (
    "EXISTS (SELECT 1 FROM events r WHERE r.task_id = e.task_id "
    f"AND r.kind = '{EventKind.TASK_RETRIED}' AND r.id > e.id) "
    f"AND e.task_id IN ({DONE_IDS})"
)
_HOUR = Pair(sqlite="CAST(ts / 3600 AS INTEGER)", postgres="floor(ts / 3600)")
EVENT_COUNTS = sql_pair(
    "SELECT kind, agent_id, {hour} AS hour, count(*) AS n FROM events e "
    "WHERE ts >= :since AND ts <= :until AND kind {kinds} "
    "AND (CAST(:campaign_id AS BIGINT) IS NULL "
    f"OR task_id IN ({TASKS_OF_CAMPAIGN})) "
    f"AND NOT (kind = '{EventKind.TASK_FAILED}' AND {_RETRIED_THEN_DONE}) "
    "GROUP BY kind, agent_id, hour",
    hour=_HOUR,
    kinds=in_list("kinds"),
)
NOTABLE = sql_pair(
    "SELECT kind, text FROM events WHERE ts >= :start AND ts <= :end AND kind {noise} "
    "ORDER BY id DESC LIMIT :limit",
    noise=in_list("noise", negated=True),
)


class WatchCounts(NamedTuple):
    """The watcher's nudges and the tasks it took back (requeued or failed) in a window."""

    nudges: int
    taken: int


class EventData(NamedTuple):
    """An event's kind, its data (JSON; None: none) and when it happened."""

    kind: str
    data: str | None
    ts: float


class TaskEvent(NamedTuple):
    """One event of a task: its kind, text, agent and data (JSON; None: none)."""

    kind: str
    text: str
    agent: str | None
    data: str | None


class ReviewEvent(NamedTuple):
    """A dashboard review's event: its id, task, who reviewed and its data (JSON)."""

    id: int
    task_id: int | None
    actor: str | None
    data: str | None


class CiDecidedEvent(NamedTuple):
    """The choice made for a task's exhausted CI: who, the event's text, its data (JSON)."""

    actor: str | None
    text: str
    data: str | None


class NudgeCount(NamedTuple):
    """How many times an agent was nudged."""

    agent_id: str
    n: int


class HourCount(NamedTuple):
    """How many events of a kind an agent (None: no agent's) had in an hour (``hour``:
    seconds since the epoch over 3600)."""

    kind: str
    agent_id: str | None
    hour: float
    n: int


class NotableEvent(NamedTuple):
    """An event the summary lists."""

    kind: str
    text: str


def row_to_event(row: Row) -> Event:
    """Build an Event from an ``events`` row."""
    return Event(
        id=row["id"],
        ts=row["ts"],
        kind=row["kind"],
        text=row["text"],
        task_id=row["task_id"],
        agent=row["agent_id"],
        actor=row["actor"],
        data=json.loads(row["data"]) if row["data"] else None,
    )


def events_after(
    conn: Conn, after_id: int = 0, limit: int = 100, task_id: int | None = None
) -> list[Event]:
    """Events after event ``after_id`` in commit order (``core.store.tables.Unseen``),
    oldest first."""
    if task_id is None:
        rows = AFTER.run(conn, after_id, {"limit": limit})
    else:
        rows = AFTER_OF_TASK.run(conn, after_id, {"limit": limit, "task_id": task_id})
    return [row_to_event(r) for r in rows]


def last_events(conn: Conn, limit: int) -> list[Event]:
    """The newest ``limit`` events a consumer may read, oldest first (the last of them is
    where a consumer that starts now begins)."""
    conn.flush_events()
    rows = conn.execute(NEWEST.on(conn), {"limit": limit}).fetchall()
    return [row_to_event(r) for r in reversed(rows)]


def watch_counts(conn: Conn, since: float, until: float) -> WatchCounts:
    """The watcher's nudges and tasks it took back (requeued or failed) in [since, until]."""
    found = conn.execute(WATCH_COUNTS, {"since": since, "until": until}).fetchone()
    return WatchCounts(*values(found))


def newest_of_kinds(conn: Conn, agent: str, kinds: tuple[str, str, str]) -> EventData | None:
    """``agent``'s newest event of one of the three ``kinds``, or None: read newest first,
    up to the first match."""
    kind1, kind2, kind3 = kinds
    found = conn.execute(
        NEWEST_OF_KINDS, {"agent": agent, "kind1": kind1, "kind2": kind2, "kind3": kind3}
    ).fetchone()
    return None if found is None else EventData(*values(found))


def state_changes(
    conn: Conn, agent: str, since: float, before: float, limit: int
) -> list[str | None]:
    """The data (JSON) of ``agent``'s newest ``limit`` state changes (``agent.state``) at or
    after ``since`` and before ``before``, newest first."""
    return [
        row["data"]
        for row in conn.execute(
            STATE_CHANGES,
            {
                "agent": agent,
                "kind": EventKind.AGENT_STATE,
                "since": since,
                "before": before,
                "limit": limit,
            },
        )
    ]


def of_task(conn: Conn, task_id: int) -> list[TaskEvent]:
    """The task's events, oldest first."""
    return [TaskEvent(*values(row)) for row in conn.execute(OF_TASK, {"task_id": task_id})]


def newest_reviews(conn: Conn, limit: int) -> list[ReviewEvent]:
    """The newest ``limit`` dashboard reviews' events, newest first."""
    return [ReviewEvent(*values(row)) for row in conn.execute(NEWEST_REVIEWS, {"limit": limit})]


def data_of_kind(conn: Conn, kind: str) -> list[str | None]:
    """The data (JSON; None: none) of every event of ``kind``."""
    return [row["data"] for row in conn.execute(DATA_OF_KIND, {"kind": kind})]


def newest_id_of_kind(conn: Conn, kind: str) -> int:
    """The id of the newest event of ``kind`` (0: none)."""
    row = conn.execute(NEWEST_ID_OF_KIND, {"kind": kind}).fetchone()
    return int(row["id"] or 0) if row else 0


def followup_data(conn: Conn, task_id: int) -> str | None:
    """The data of the ``github.followup`` event that made ``task_id`` (its link's id), or
    None for a task no follow-up made."""
    found = conn.execute(FOLLOWUP, {"task_id": task_id}).fetchone()
    return None if found is None else str(found["data"])


def ci_decided(conn: Conn, task_id: int) -> CiDecidedEvent | None:
    """The first ``github.ci_decided`` event of ``task_id``, or None."""
    found = conn.execute(CI_DECIDED, {"task_id": task_id}).fetchone()
    return None if found is None else CiDecidedEvent(*values(found))


def ci_exhausted(conn: Conn, task_id: int) -> str | None:
    """The data of the last ``github.ci_exhausted`` event of ``task_id``, or None."""
    row = conn.execute(CI_EXHAUSTED, {"task_id": task_id}).fetchone()
    return None if row is None else str(row["data"] or "{}")


def nudges_per_agent(conn: Conn) -> list[NudgeCount]:
    """How many times each agent was nudged."""
    return [NudgeCount(*values(row)) for row in conn.execute(NUDGES_PER_AGENT)]


def event_counts(
    conn: Conn, since: float, until: float, kinds: Sequence[str], campaign_id: int | None
) -> list[HourCount]:
    """How many events of ``kinds`` each agent had per hour with ``since <= ts <= until``
    (``campaign_id``: of its tasks only), a failure later retried into a done left out."""
    params = {"since": since, "until": until, "kinds": listed(kinds), "campaign_id": campaign_id}
    return [HourCount(*values(row)) for row in conn.execute(EVENT_COUNTS.on(conn), params)]


def notable_events(
    conn: Conn, window: tuple[float, float], noise: Sequence[str], limit: int
) -> list[NotableEvent]:
    """The newest ``limit`` events in the window not of ``noise``, newest first."""
    params = {"start": window[0], "end": window[1], "noise": listed(noise), "limit": limit}
    return [NotableEvent(*values(row)) for row in conn.execute(NOTABLE.on(conn), params)]
