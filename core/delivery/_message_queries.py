"""The statements of messages and their deliveries (``core.delivery._messages``): a message
stored with a queued delivery per recipient, the oldest due delivery claimed, a receipt
stored, a pending prompt dropped, a crash's deliveries taken back; and what other features
ask of deliveries (the watch's last paste and finished deliveries, a question's answer held
or taken back). ``messages`` and ``deliveries`` are this feature's tables. Each is one named
operation; the conditions it writes under (``WHERE ... AND state = ...``) are what a writer
racing it can change, and its rowcount says whether it won.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from core.agents import queries as agent_queries
from core.agents import turn_ended_on_pane
from core.models import NOTICE_CARRIED, Delivery, DeliveryState, Priority, Target, TargetKind
from core.store.conn import (
    Conn,
    Pair,
    Row,
    Sql,
    in_list,
    json_rows,
    listed,
    sql,
    sql_pair,
    values,
)
from core.store.row_locks import read_held
from core.tasks import ACTIVE_HOLDS

# A message's target is two columns, ``target_kind`` (``TargetKind``) and ``target_name``.
# A note about a task that is not its prompt (an answer, a nudge) is delivered as it is,
# without the workspace, handoff and footer; a withdrawal takes a task back.
_NOT_WITHDRAWAL = f"m.target_kind <> '{TargetKind.withdraw}'"
# the columns a new message and a new delivery are written with, and their SQL types (the
# types for ``json_rows``: rows passed as one JSON parameter)
_MESSAGE_TYPES = {
    "sender": "TEXT",
    "target_kind": "TEXT",
    "target_name": "TEXT",
    "text": "TEXT",
    "task_id": "BIGINT",
    "priority": "BIGINT",
    "created_at": "DOUBLE PRECISION",
}
_DELIVERY_TYPES = {
    "message_id": "BIGINT",
    "agent_id": "TEXT",
    "state": "TEXT",
    "created_at": "DOUBLE PRECISION",
    "updated_at": "DOUBLE PRECISION",
}
_MESSAGE_COLUMNS = ", ".join(_MESSAGE_TYPES)
_DELIVERY_COLUMNS = ", ".join(_DELIVERY_TYPES)
DELIVERY_SELECT = (
    "SELECT d.id, d.message_id, d.agent_id, d.state, d.attempts, d.reason, d.deferred, "
    "m.text, m.sender, m.task_id, m.priority, m.target_kind, m.target_name FROM deliveries d "
    "JOIN messages m ON m.id = d.message_id"
)
_DELIVERY_WIDTH = 13  # DELIVERY_SELECT's columns
# Whether a note about the done task waits in its holder's queue (a nudge to report it): a
# column of the done's statement over its row ``tasks`` (core.assignment._queries composes it)
DONE_QUEUED_NOTES = (
    "EXISTS (SELECT 1 FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE "
    "m.task_id = tasks.id AND d.agent_id = tasks.assignee AND d.state = 'queued' AND "
    f"m.target_kind = '{TargetKind.note}') AS queued_notes"
)

# Fragments the tasks' scheduling pass composes (core.assignment._queries), the deliveries'
# and messages' table named here only. PostgreSQL: with ``t`` the tasks taken (``id``) and
# ``:prompts`` a JSON list of (n, task_id, agent, text, priority), a prompt queued for each
# task taken (``m``, in the order of the picks) and its delivery (``d``, in message order:
# the claims take the oldest first).
QUEUE_PROMPTS_OF_TAKEN = (
    "v AS (SELECT * FROM jsonb_to_recordset(CAST(:prompts AS jsonb)) "
    "AS r(n INTEGER, task_id BIGINT, agent TEXT, text TEXT, priority BIGINT)), "
    "m AS (INSERT INTO messages (sender, target_kind, target_name, text, task_id, priority, "
    "created_at) SELECT :actor, 'agent', v.agent, v.text, v.task_id, v.priority, :now "
    "FROM v JOIN t ON t.id = v.task_id ORDER BY v.n RETURNING id, task_id, target_name), "
    "d AS (INSERT INTO deliveries (message_id, agent_id, state, created_at, updated_at) "
    "SELECT id, target_name, 'queued', :now, :now FROM m ORDER BY id)"
)
# when the earliest queued delivery is due (an index's read)
QUEUED_DUE = "SELECT min(not_before) FROM deliveries WHERE state = 'queued'"
LATEST_DELIVERIES = sql(f"{DELIVERY_SELECT} ORDER BY d.id DESC LIMIT :limit")
MESSAGE_DELIVERIES = sql(f"{DELIVERY_SELECT} WHERE d.message_id = :message_id ORDER BY d.id")
INSERT_MESSAGE = sql(
    f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (:sender, :target_kind, :target_name, "
    ":text, :task_id, :priority, :now) RETURNING id"
)
# ``insert_prompts``: the messages, then their deliveries, each a JSON list of rows
INSERT_PROMPTS = sql_pair(
    f"INSERT INTO messages ({_MESSAGE_COLUMNS}) {{rows}} RETURNING id, task_id",
    rows=json_rows("rows", _MESSAGE_TYPES),
)
INSERT_PROMPT_DELIVERIES = sql_pair(
    f"INSERT INTO deliveries ({_DELIVERY_COLUMNS}) {{rows}}",
    rows=json_rows("rows", _DELIVERY_TYPES),
)
LAST_FINISHED_EACH = sql(
    f"SELECT a.id AS agent, d.state AS state {agent_queries.EACH_AGENT}LEFT JOIN deliveries d "
    "ON d.id = (SELECT f.id FROM deliveries f WHERE f.agent_id = a.id AND f.state IN "
    "('delivered', 'failed') AND COALESCE(f.reason, '') != 'superseded' "
    "ORDER BY f.id DESC LIMIT 1)"
)
INSERT_DELIVERY = sql(
    f"INSERT INTO deliveries ({_DELIVERY_COLUMNS}) "
    "VALUES (:message_id, :agent, 'queued', :now, :now)"
)
TAKE = sql(
    "UPDATE deliveries SET state = 'delivering', attempts = attempts + 1, updated_at = :now "
    "WHERE id = :id AND state = 'queued'"
)
STATE = sql("SELECT state FROM deliveries WHERE id = :id")
_MARK_DELIVERED = (
    "UPDATE deliveries SET state = 'delivered', method = :method, reason = NULL, deferred = 0, "
    "updated_at = :now, claim_until = NULL WHERE id = :id"
)
MARK_DELIVERED = sql(_MARK_DELIVERED)
MARK_DELIVERED_IF_DELIVERING = sql(f"{_MARK_DELIVERED} AND state = 'delivering'")
MARK_FAILED = sql(
    "UPDATE deliveries SET state = 'failed', reason = :reason, deferred = 0, updated_at = :now, "
    "claim_until = NULL WHERE id = :id"
)
REQUEUE = sql(
    "UPDATE deliveries SET state = 'queued', reason = :why, deferred = :deferred, "
    "not_before = :not_before, attempts = attempts - :given_back, updated_at = :now, "
    "claim_until = NULL WHERE id = :id"
)
TURN_ENDED_SINCE_CLAIM = sql(
    "SELECT 1 FROM deliveries d JOIN agent_signals s ON s.agent = d.agent_id "
    "WHERE d.id = :id AND s.signal = 'protocol' AND s.state = 'idle' "
    "AND s.at >= d.updated_at"
)
TURN_OVER = sql(
    "UPDATE deliveries SET state = 'queued', not_before = CASE WHEN deferred = 1 "
    "AND not_before > :now THEN :now ELSE not_before END WHERE agent_id = :agent "
    "AND state = 'queued'"
)
PENDING = sql(
    "SELECT d.id, d.state FROM deliveries d JOIN messages m ON m.id = d.message_id "
    "WHERE d.agent_id = :agent AND d.state IN ('queued', 'delivering') AND m.task_id = :task_id "
    f"AND {_NOT_WITHDRAWAL}"
)
QUEUED_NOTES = sql(
    "SELECT d.id, d.state FROM deliveries d JOIN messages m ON m.id = d.message_id "
    "WHERE d.agent_id = :agent AND d.state = 'queued' AND m.task_id = :task_id "
    f"AND m.target_kind = '{TargetKind.note}'"
)
SUPERSEDE = sql(
    "UPDATE deliveries SET state = 'failed', reason = 'superseded', deferred = 0, "
    "updated_at = :now WHERE id = :id AND state IN ('queued', 'delivering')"
)
_REACHED = (
    "SELECT 1 FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE "
    "d.agent_id = :agent AND m.task_id = :task_id AND d.state IN ('delivered', 'delivering') "
    f"AND {_NOT_WITHDRAWAL}"
)
REACHED = sql(f"{_REACHED} LIMIT 1")
REACHED_SINCE = sql(f"{_REACHED} AND m.created_at >= :since LIMIT 1")
DELIVERED_BEFORE = sql(
    "SELECT 1 FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE "
    "d.agent_id = :agent AND m.task_id = :task_id AND d.state = 'delivered' "
    f"AND d.updated_at < :before AND m.created_at >= :since AND {_NOT_WITHDRAWAL} LIMIT 1"
)
REQUEUE_INTERRUPTED = sql(
    "UPDATE deliveries SET state = 'queued', reason = 'interrupted', deferred = 0, "
    "updated_at = :now WHERE id = :id AND state = 'delivering' AND node IS NULL"
)
HOLD_DELIVERIES = sql("UPDATE deliveries SET not_before = :until WHERE message_id = :message_id")
QUEUED_ANSWERS = sql(
    "SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.message_id "
    "WHERE m.task_id = :task_id AND m.target_kind = :target_kind AND m.target_name = :agent "
    "AND m.created_at = :answered_at AND d.state = 'queued'"
)
DROP_DELIVERY = sql(
    "UPDATE deliveries SET state = 'failed', reason = :reason, deferred = 0, updated_at = :now "
    "WHERE id = :id"
)
LAST_PASTE = sql(
    "SELECT state, updated_at FROM deliveries WHERE agent_id = :agent AND state "
    "IN ('delivering', 'delivered') ORDER BY id DESC LIMIT 1"
)
LAST_FINISHED = sql(
    "SELECT state, reason FROM deliveries WHERE agent_id = :agent AND state IN ('delivered', "
    "'failed') AND COALESCE(reason, '') != 'superseded' ORDER BY id DESC LIMIT :count"
)
LAST_DELIVERED = sql(
    "SELECT created_at, updated_at FROM deliveries WHERE agent_id = :agent AND state = "
    "'delivered' ORDER BY id DESC LIMIT 1"
)


def message_target(row: Row) -> Target:
    """A message's target from its ``target_kind`` and ``target_name`` columns."""
    return Target(TargetKind(row["target_kind"]), row["target_name"])


def row_to_delivery(row: Row) -> Delivery:
    """Build a Delivery from a deliveries-join-messages row (``DELIVERY_SELECT``)."""
    return Delivery(
        id=row["id"],
        message_id=row["message_id"],
        agent=row["agent_id"],
        state=DeliveryState(row["state"]),
        text=row["text"],
        sender=row["sender"],
        task_id=row["task_id"],
        priority=Priority(row["priority"]),
        attempts=row["attempts"],
        reason=row["reason"],
        is_retry=row["attempts"] > 0,
        target=message_target(row),
        deferred=bool(row["deferred"]),
    )


def list_deliveries(conn: Conn, message_id: int | None = None, limit: int = 100) -> list[Delivery]:
    """Deliveries, newest first, optionally of one message."""
    if message_id is None:
        rows = conn.execute(LATEST_DELIVERIES, {"limit": limit})
    else:
        rows = conn.execute(MESSAGE_DELIVERIES, {"message_id": message_id})
    return [row_to_delivery(r) for r in rows]


def delivery_counts(conn: Conn) -> dict[str, int]:
    """Number of deliveries in each state."""
    counts = {s.value: 0 for s in DeliveryState}
    for row in conn.execute("SELECT state, count(*) AS n FROM deliveries GROUP BY state"):
        counts[row["state"]] = row["n"]
    return counts


def not_mid_turn(d: str, since: str, turn_heard_over: str | None = None) -> str:
    """SQL: delivery ``d`` may go now. Nothing is typed into an agent with hooks mid-turn:
    while its hook says it is working or waiting on a permission dialog, or while a delivery
    to it was submitted after the hook last spoke (its turn began; the hook that says so
    took 10 s under load), either after ``since`` (now less ``Settings.turn_hold_s``: older
    is stale, as the stall rules take it). The hook's Stop (idle) lets it go, or the pane
    seen idle since (``turn_ended_on_pane``), or swarm judging the agent stalled (its turn is
    no work: the nudge goes). A task's prompt, a plain message, a note (a nudge, an answer)
    and a withdrawal alike: a submit key typed into a turn lands on the permission dialog
    its next tool call opens meanwhile and answers it for the person (the pane read just
    before the key narrows that window, and under load leaves it open for seconds)."""
    hook_says = (
        f"s.state IN ('working', 'waiting') AND s.at > {since} "
        f"AND NOT {turn_ended_on_pane('s.agent', 's.at')}"
    )
    submitted = (
        f"EXISTS (SELECT 1 FROM deliveries r WHERE r.agent_id = s.agent "
        f"AND r.state = 'delivered' AND r.updated_at > s.at AND r.updated_at > {since} "
        f"AND NOT {turn_ended_on_pane('r.agent_id', 'r.updated_at')})"
    )
    return (
        f"NOT EXISTS (SELECT 1 FROM agent_signals s WHERE s.agent = {d}.agent_id "
        f"AND s.signal = 'hook' AND ({hook_says} OR {submitted}) AND NOT EXISTS "
        f"{agent_queries.stalled('s.agent')}) "
        f"AND {_not_in_protocol_turn(d, since, turn_heard_over)}"
    )


def _not_in_protocol_turn(d: str, since: str, turn_heard_over: str | None) -> str:
    """SQL: delivery ``d``'s agent is in no turn its protocol host reported (working, or
    waiting on a permission request) after ``since``: its host would refuse the prompt as
    busy, a round of claim, build and send for nothing (its turn's end wakes it:
    ``turn_over``). A withdrawal goes anyway: it cancels that turn. A turn with no word
    since ``since`` is stalled by then: the rules for a stall take it from there.
    ``turn_heard_over``: an array of agents whose turn's end their node heard from the host
    and has not written yet (it goes now: the host takes the prompt)."""
    heard = f"{d}.agent_id = ANY({turn_heard_over}) OR " if turn_heard_over else ""
    return (
        f"({heard}NOT EXISTS (SELECT 1 FROM agent_signals r WHERE r.agent = {d}.agent_id "
        f"AND r.signal = 'protocol' AND r.state IN ('working', 'waiting') AND r.at > {since} "
        f"AND NOT EXISTS (SELECT 1 FROM messages w WHERE w.id = {d}.message_id "
        f"AND w.target_kind = '{TargetKind.withdraw}')))"
    )


def insert_message(
    conn: Conn,
    sender: str,
    target: Target,
    text: str,
    task_id: int | None,
    priority: Priority,
    now: float,
) -> int:
    """Store one message; its id."""
    cur = conn.execute(
        INSERT_MESSAGE,
        {
            "sender": sender,
            "target_kind": target.kind.value,
            "target_name": target.name,
            "text": text,
            "task_id": task_id,
            "priority": int(priority),
            "now": now,
        },
    )
    return int(cur.fetchone()["id"])


def insert_deliveries(conn: Conn, message_id: int, agents: Sequence[str], now: float) -> None:
    """A queued delivery of the message to each of ``agents``."""
    conn.executemany(
        INSERT_DELIVERY,
        [{"message_id": message_id, "agent": agent, "now": now} for agent in agents],
    )


def insert_prompts(
    conn: Conn, sender: str, now: float, prompts: list[tuple[str, str, int, Priority]]
) -> dict[int, int]:
    """Store the prompts (agent, text, task id, priority) of distinct tasks, each with its
    queued delivery, in two INSERTs of their rows as JSON lists; the message id of each
    task."""
    kind = TargetKind.agent.value
    messages = listed(
        {"sender": sender, "target_kind": kind, "target_name": agent, "text": text}
        | {"task_id": task_id, "priority": int(priority), "created_at": now}
        for agent, text, task_id, priority in prompts
    )
    rows = conn.execute(INSERT_PROMPTS.on(conn), {"rows": messages}).fetchall()
    ids = {int(r["task_id"]): int(r["id"]) for r in rows}
    deliveries = listed(
        {"message_id": ids[task_id], "agent_id": agent, "state": "queued"}
        | {"created_at": now, "updated_at": now}
        for agent, _, task_id, _ in prompts
    )
    conn.execute(INSERT_PROMPT_DELIVERIES.on(conn), {"rows": deliveries})
    return ids


class DueDelivery(NamedTuple):
    """The oldest due delivery, and the values of the ``extra`` columns read with it."""

    delivery: Delivery
    extra: tuple[object, ...]


def oldest_due_statement(extra: str = "") -> Pair[Sql]:
    """``oldest_due``'s statement, with ``extra`` columns over deliveries ``d`` and messages
    ``m`` first (none: ``OLDEST_DUE``): a module constant, made once where it is defined. The
    due id is picked first: the columns (``extra``'s subqueries) are then computed for that
    one row, not for every due delivery the ordering looks at."""
    select = (
        f"SELECT {extra}, {DELIVERY_SELECT.removeprefix('SELECT ')}" if extra else DELIVERY_SELECT
    )
    return sql_pair(
        f"{select} WHERE d.id = (SELECT id FROM deliveries q WHERE state = 'queued' "
        f"AND not_before <= :now AND agent_id {{skip}} AND {not_mid_turn('q', ':since')} "
        "ORDER BY id LIMIT 1)",
        skip=in_list("skip", negated=True),
    )


OLDEST_DUE = oldest_due_statement()


def oldest_due(
    conn: Conn, now: float, since: float, skip: list[str], statement: Pair[Sql] = OLDEST_DUE
) -> DueDelivery | None:
    """The oldest queued delivery due at ``now`` (``DELIVERY_SELECT``'s row, with the extra
    columns of ``statement``, from ``oldest_due_statement``, first), not one of the agents
    ``skip`` and not to an agent mid-turn since ``since`` (``not_mid_turn``); None when there
    is none."""
    params = {"now": now, "skip": listed(skip), "since": since}
    row = conn.execute(statement.on(conn), params).fetchone()
    if row is None:
        return None
    found = values(row)
    return DueDelivery(row_to_delivery(row), found[: len(found) - _DELIVERY_WIDTH])


def take(conn: Conn, delivery_id: int, now: float) -> bool:
    """Mark a queued delivery delivering (one more attempt); False when it was no longer
    queued (dropped or claimed meanwhile by another writer)."""
    taken = conn.execute(TAKE, {"now": now, "id": delivery_id})
    return bool(taken.rowcount != 0)


def state(conn: Conn, delivery_id: int) -> str:
    """The delivery's state."""
    row = conn.execute(STATE, {"id": delivery_id}).fetchone()
    return str(row["state"])


def held_state(conn: Conn, delivery_id: int) -> str:
    """The delivery's state, read as it is held (``row_locks.read_held``): a receipt and a
    requeue or drop of it at once take turns."""
    return str(read_held(conn, "deliveries", "state", delivery_id)["state"])


def mark_delivered(
    conn: Conn, delivery_id: int, method: str | None, now: float, *, checked: bool
) -> bool:
    """Mark the delivery delivered by ``method``, its claim over; ``checked``: the caller read
    it as delivering in this transaction, else only while it still is. False when it was not
    (superseded meanwhile)."""
    statement = MARK_DELIVERED if checked else MARK_DELIVERED_IF_DELIVERING
    cur = conn.execute(statement, {"method": method, "now": now, "id": delivery_id})
    return bool(cur.rowcount != 0)


def mark_failed(conn: Conn, delivery_id: int, reason: str, now: float) -> None:
    """The delivery failed for ``reason``, its claim over."""
    conn.execute(MARK_FAILED, {"reason": reason, "now": now, "id": delivery_id})


def requeue(
    conn: Conn, delivery_id: int, why: str, *, counted: bool, not_before: float, now: float
) -> None:
    """The delivery back in the queue from ``not_before``, its claim over: a retry
    (``counted``: a try was used) or a deferral (not attempted: ``deferred``, the try given
    back)."""
    conn.execute(
        REQUEUE,
        {
            "why": why,
            "deferred": 0 if counted else 1,
            "not_before": not_before,
            "given_back": 0 if counted else 1,
            "now": now,
            "id": delivery_id,
        },
    )


def turn_ended_since_claim(conn: Conn, delivery_id: int) -> bool:
    """Whether the delivery's agent ended a turn (its protocol said so, taken in) since the
    delivery was claimed: the turn that refused it as busy is over already, its end taken in
    before the refusal was stored (``turn_over`` found nothing to hasten then)."""
    row = conn.execute(TURN_ENDED_SINCE_CLAIM, {"id": delivery_id}).fetchone()
    return row is not None


def turn_over(conn: Conn, agent: str, now: float) -> None:
    """``agent``'s turn ended (its protocol host said so): its deliveries put off while
    it was busy (``deferred``) are due now, and every queued one is set ``queued`` again,
    which wakes the agent's node (its NOTIFY trigger) for those held while it was mid-turn
    (``not_mid_turn``): they go now, not at the node's next look."""
    due_now(conn, agent, now)


def due_now(conn: Conn, agent: str, now: float) -> None:
    """What waits for ``agent`` (put off: busy, offline) is due now, its node woken (a turn
    ended; its route changed in the agents file)."""
    conn.execute(TURN_OVER, {"now": now, "agent": agent})


class Unreceived(NamedTuple):
    """A delivery not yet received, and its state (``queued`` or ``delivering``)."""

    id: int
    state: str


def pending(conn: Conn, agent: str, task_id: int) -> list[Unreceived]:
    """The deliveries of the task's messages to ``agent`` not yet received (queued or
    delivering), withdrawals left out."""
    rows = conn.execute(PENDING, {"agent": agent, "task_id": task_id})
    return [Unreceived(*values(row)) for row in rows]


def queued_notes(conn: Conn, agent: str, task_id: int) -> list[Unreceived]:
    """The deliveries of the notes about the task to ``agent`` still queued (none on its
    screen yet)."""
    rows = conn.execute(QUEUED_NOTES, {"agent": agent, "task_id": task_id})
    return [Unreceived(*values(row)) for row in rows]


def supersede(conn: Conn, delivery_id: int, now: float) -> bool:
    """Fail a delivery not yet received as superseded; False when its receipt came first
    (another writer): it stays so."""
    dropped = conn.execute(SUPERSEDE, {"now": now, "id": delivery_id})
    return bool(dropped.rowcount != 0)


def reached(conn: Conn, task_id: int, agent: str, since: float | None) -> bool:
    """Whether a message of the task (not a withdrawal) queued from ``since`` on (any, for
    None) was delivered to ``agent`` or is being delivered."""
    if since is None:
        row = conn.execute(REACHED, {"agent": agent, "task_id": task_id}).fetchone()
    else:
        row = conn.execute(
            REACHED_SINCE, {"agent": agent, "task_id": task_id, "since": since}
        ).fetchone()
    return row is not None


def delivered_before(
    conn: Conn, task_id: int, agent: str, since: float | None, before: float
) -> bool:
    """Whether a message of the task (not a withdrawal) queued from ``since`` on was
    delivered to ``agent`` before ``before``."""
    row = conn.execute(
        DELIVERED_BEFORE,
        {"agent": agent, "task_id": task_id, "before": before, "since": since or 0.0},
    ).fetchone()
    return row is not None


def queued_since_each(conn: Conn) -> dict[str, tuple[float, int]]:
    """Agent -> (when its oldest queued message was queued, how many are queued), for each
    agent with one (one statement for all)."""
    rows = conn.execute(
        "SELECT d.agent_id, min(m.created_at) AS oldest, count(*) AS n FROM deliveries d "
        "JOIN messages m ON m.id = d.message_id WHERE d.state = 'queued' GROUP BY d.agent_id"
    ).fetchall()
    return {row["agent_id"]: (float(row["oldest"]), int(row["n"])) for row in rows}


INTERRUPTED = sql(
    "SELECT d.id, d.agent_id, m.task_id FROM deliveries d JOIN messages m "
    "ON m.id = d.message_id WHERE d.state = 'delivering' AND d.node IS NULL"
)


class Interrupted(NamedTuple):
    """A delivery left delivering by a crash: its agent, and its message's task (None: a
    plain message)."""

    id: int
    agent_id: str
    task_id: int | None


def interrupted(conn: Conn) -> list[Interrupted]:
    """The deliveries left delivering by this process, not by a node (a node's claim comes
    back when its lease ends)."""
    return [Interrupted(*values(row)) for row in conn.execute(INTERRUPTED)]


def requeue_interrupted(conn: Conn, delivery_id: int, now: float) -> bool:
    """An interrupted delivery back in the queue; False when its receipt was stored
    meanwhile."""
    back = conn.execute(REQUEUE_INTERRUPTED, {"now": now, "id": delivery_id})
    return bool(back.rowcount != 0)


def hold_deliveries(conn: Conn, message_id: int, until: float) -> None:
    """The message's deliveries wait until ``until`` (an asker waiting in its terminal
    prints the answer and takes it back before)."""
    conn.execute(HOLD_DELIVERIES, {"until": until, "message_id": message_id})


def queued_answers(
    conn: Conn, task_id: int, agent: str | None, answered_at: float | None
) -> list[int]:
    """The ids of the deliveries still queued of the answer note to ``agent`` on the task,
    made when the question was answered."""
    rows = conn.execute(
        QUEUED_ANSWERS,
        {
            "task_id": task_id,
            "target_kind": TargetKind.note.value,
            "agent": agent,
            "answered_at": answered_at,
        },
    )
    return [int(row["id"]) for row in rows]


def drop_delivery(conn: Conn, delivery_id: int, reason: str, now: float) -> None:
    """Fail the delivery for ``reason`` (the answer was printed instead)."""
    conn.execute(DROP_DELIVERY, {"reason": reason, "now": now, "id": delivery_id})


class Paste(NamedTuple):
    """A delivery being made or made (``delivering``, ``delivered``), and when it was."""

    state: str
    updated_at: float


def last_paste(conn: Conn, agent: str) -> Paste | None:
    """The latest delivery to ``agent`` being made or made, or None."""
    row = conn.execute(LAST_PASTE, {"agent": agent}).fetchone()
    return None if row is None else Paste(*values(row))


# over core.tasks' tasks held now (``ACTIVE_HOLDS``, with when each was assigned)
PROMPT_DELIVERED_EACH = sql(
    "SELECT assignee, max(first_at) AS first_at FROM (SELECT t.assignee AS assignee, "
    f"min(d.updated_at) AS first_at FROM ({ACTIVE_HOLDS}) t "
    "JOIN messages m ON m.task_id = t.id AND m.created_at >= t.assigned_at "
    "JOIN deliveries d ON d.message_id = m.id AND d.agent_id = t.assignee "
    "WHERE d.state = 'delivered' GROUP BY t.id, t.assignee) AS firsts GROUP BY assignee"
)


def prompt_delivered_each(conn: Conn) -> dict[str, float]:
    """Agent -> when the prompt of a task it holds reached it, for each agent a prompt of
    whose tasks did (one statement for all): the first delivery of the task's messages made
    since its assignment, the latest over its tasks. Nudges, answers and other messages
    swarm sends later are not the agent's activity."""
    rows = conn.execute(PROMPT_DELIVERED_EACH).fetchall()
    return {row["assignee"]: float(row["first_at"]) for row in rows}


class Finished(NamedTuple):
    """A delivery delivered or failed, and why it failed (None: delivered)."""

    state: str
    reason: str | None


def last_finished_deliveries(conn: Conn, agent: str, count: int) -> list[Finished]:
    """The last ``count`` deliveries to ``agent`` delivered or failed, newest first;
    superseded ones left out."""
    rows = conn.execute(LAST_FINISHED, {"agent": agent, "count": count})
    return [Finished(*values(row)) for row in rows]


def last_finished_each(conn: Conn) -> dict[str, str | None]:
    """Agent -> the state of its last delivery delivered or failed, as
    :func:`last_finished_deliveries` finds it (None: none), for each agent with a row in
    ``agent_state`` (one statement for all: each agent's newest first on its index)."""
    rows = conn.execute(LAST_FINISHED_EACH).fetchall()
    return {row["agent"]: row["state"] for row in rows}


def last_delivered(conn: Conn, agent: str) -> tuple[float, float] | None:
    """The latest delivery that reached ``agent``: when it was queued and when it arrived."""
    row = conn.execute(LAST_DELIVERED, {"agent": agent}).fetchone()
    return None if row is None else (float(row["created_at"]), float(row["updated_at"]))


DELIVERY_MESSAGE = sql(
    "SELECT m.task_id, m.created_at, d.agent_id, d.state FROM deliveries d "
    "JOIN messages m ON m.id = d.message_id WHERE d.id = :delivery"
)


class DeliveredMessage(NamedTuple):
    """A delivery's message: its task (None: none), when it was queued, its agent, its state."""

    task_id: int | None
    created_at: float
    agent: str
    state: str


def delivery_message(conn: Conn, delivery: int) -> DeliveredMessage | None:
    """Delivery ``delivery``'s message as :class:`DeliveredMessage` (None: no such delivery)."""
    row = conn.execute(DELIVERY_MESSAGE, {"delivery": delivery}).fetchone()
    return None if row is None else DeliveredMessage(*values(row))


TASK_OF_DELIVERY = sql(
    "SELECT m.task_id FROM deliveries d JOIN messages m ON m.id = d.message_id "
    "WHERE d.id = :delivery"
)


def task_of_delivery(conn: Conn, delivery: int) -> tuple[bool, int | None]:
    """Whether delivery ``delivery`` exists, and the task its message is for (or None): a
    protocol turn's task (``core.agents._transcriber.TaskOfDelivery``)."""
    row = conn.execute(TASK_OF_DELIVERY, {"delivery": delivery}).fetchone()
    return (False, None) if row is None else (True, values(row)[0])


# the latest deliveries that reached an agent, newest by id (its index), for the withdrawal
# notices its next message carries: only the last ones can be due (``carried_notices``);
# no text read (read at every message of every agent: the texts of the due ones alone)
RECENT_DELIVERED = sql(
    "SELECT d.method, d.updated_at, m.target_kind, m.id AS message_id "
    "FROM deliveries d JOIN messages m ON m.id = d.message_id "
    "WHERE d.agent_id = :agent AND d.state = 'delivered' ORDER BY d.id DESC LIMIT 50"
)
NOTICE_TEXTS = sql_pair(
    "SELECT id, text, sender, task_id FROM messages WHERE id {ids}",
    ids=in_list("ids", "BIGINT"),
)


class CarriedNotice(NamedTuple):
    """A withdrawal whose turn was stopped and whose notice the agent was not yet told."""

    text: str
    sender: str
    task_id: int | None


def carried_notices(conn: Conn, agent: str) -> list[CarriedNotice]:
    """The withdrawal notices ``agent``'s next message carries, oldest first: those whose
    route stopped the turn and typed nothing (``NOTICE_CARRIED``), delivered after the last
    other delivery that reached the agent (which carried them, or began a new session)."""
    rows = conn.execute(RECENT_DELIVERED, {"agent": agent}).fetchall()
    due: list[int] = []
    for row in sorted(rows, key=lambda r: float(r["updated_at"]), reverse=True):
        carried = row["target_kind"] == TargetKind.withdraw and str(row["method"] or "").endswith(
            NOTICE_CARRIED
        )
        if not carried:
            break
        due.append(int(row["message_id"]))
    if not due:
        return []
    found = conn.execute(NOTICE_TEXTS.on(conn), {"ids": listed(due)}).fetchall()
    texts = {int(r["id"]): CarriedNotice(r["text"], r["sender"], r["task_id"]) for r in found}
    return [texts[message] for message in reversed(due) if message in texts]
