"""Every statement of the cost feature, each a named operation: ``turn_usage`` (the ledger,
``core.costs.ledger``), ``budgets`` and ``budget_marks`` (``core.costs.budgets``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from core.store.conn import Conn, Cursor, Params, Sql, sql, values
from core.tasks import CAMPAIGN_OF_TASK, CAMPAIGN_TASKS, TASKS_OF_CAMPAIGN

SUMS = (
    "count(*) AS turns, coalesce(sum(input_tokens), 0) AS input, "
    "coalesce(sum(output_tokens), 0) AS output, coalesce(sum(cache_read_tokens), 0) AS "
    "cache_read, coalesce(sum(cache_write_tokens), 0) AS cache_write, "
    "coalesce(sum(cost_usd), 0) AS cost, "
    "coalesce(sum(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END), 0) AS unknown, "
    "coalesce(sum(CASE WHEN cost_from = 'no_usage' THEN 1 ELSE 0 END), 0) AS no_usage"
)

# a turn's row, in the order ``add_turn`` takes it
TURN_COLUMNS = (
    "at", "day", "ref", "task_id", "agent", "account", "cli", "model", "source", "input_tokens",
    "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd", "cost_from",
)  # fmt: skip
ADD_TURN = sql(
    f"INSERT INTO turn_usage ({', '.join(TURN_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in TURN_COLUMNS)}) "
    "ON CONFLICT (ref) DO NOTHING RETURNING id"
)
PRICE_TURN = sql(
    "UPDATE turn_usage SET cost_usd = :cost, cost_from = 'price' WHERE id = :id AND "
    "cost_usd IS NULL"
)
# the ledger's columns its sums are grouped by, one statement each
SUMS_BY = {
    column: sql(
        f"SELECT {column} AS k, {SUMS} FROM turn_usage WHERE at >= :since AND at <= :until "
        f"GROUP BY {column} ORDER BY cost DESC, turns DESC"
    )
    for column in ("task_id", "agent", "account", "cli", "model", "day")
}
# a campaign's tasks are core.tasks' (its fragments, composed here)
SUMS_BY_CAMPAIGN = sql(
    f"SELECT c.campaign_id AS k, {SUMS} FROM turn_usage LEFT JOIN ({CAMPAIGN_TASKS}) c "
    "ON c.task = turn_usage.task_id WHERE at >= :since AND at <= :until "
    "GROUP BY c.campaign_id ORDER BY cost DESC, turns DESC"
)
SUMS_OF_TASK = sql(f"SELECT {SUMS} FROM turn_usage WHERE task_id = :task_id")
SUMS_OF_AGENT_DAY = sql(f"SELECT {SUMS} FROM turn_usage WHERE agent = :agent AND day = :day")
SUMS_OF_CAMPAIGN = sql(f"SELECT {SUMS} FROM turn_usage WHERE task_id IN ({TASKS_OF_CAMPAIGN})")
SUMS_OF_ACCOUNT_DAY = sql(f"SELECT {SUMS} FROM turn_usage WHERE account = :account AND day = :day")
TURNS_OF_TASK = sql(
    "SELECT at AS recorded_at, agent, account, cli, model, source, input_tokens, "
    "output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, cost_from "
    "FROM turn_usage WHERE task_id = :task_id ORDER BY id"
)
TURNS_AFTER = sql(
    "SELECT id, at AS recorded_at, day, ref, task_id, agent, account, cli, model, source, "
    "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, "
    "cost_from FROM turn_usage WHERE id > :after_id ORDER BY id LIMIT :limit"
)
SET_BUDGET = sql(
    "INSERT INTO budgets (scope, subject, dollars, set_at, set_by) VALUES (:scope, :subject, "
    ":dollars, :at, :by) ON CONFLICT (scope, subject) DO UPDATE SET dollars = "
    "excluded.dollars, set_at = excluded.set_at, set_by = excluded.set_by"
)
FORGET_MARKS = sql("DELETE FROM budget_marks WHERE scope = :scope AND subject = :subject")
ANY_BUDGET = sql("SELECT EXISTS (SELECT 1 FROM budgets WHERE scope = :scope) AS found")
BUDGET = sql("SELECT dollars FROM budgets WHERE scope = :scope AND subject = :subject")
# a crossing, in the order ``add_mark`` takes it
MARK_COLUMNS = ("scope", "subject", "period", "level", "at")
ADD_MARK = sql(
    f"INSERT INTO budget_marks ({', '.join(MARK_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in MARK_COLUMNS)}) ON CONFLICT DO NOTHING RETURNING id"
)
CAMPAIGN_BUDGET_OF_TASK = sql(
    "SELECT b.subject, b.dollars FROM budgets b WHERE b.scope = :scope AND "
    f"b.subject = ({CAMPAIGN_OF_TASK})"
)
STOP_MARKS = sql(
    "SELECT id, scope, subject, period, at FROM budget_marks WHERE level = :level AND "
    "(scope IN (:lasting1, :lasting2) OR (scope IN (:daily1, :daily2) AND period = :day)) "
    "ORDER BY id"
)
UNPRICED_TURNS = sql(
    "SELECT id, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens "
    "FROM turn_usage WHERE cost_usd IS NULL AND cost_from IS NULL AND model IS NOT NULL "
    "ORDER BY id"
)
ALL_BUDGETS = sql(
    "SELECT scope, subject, dollars, set_at, set_by FROM budgets ORDER BY scope, set_at, subject"
)
ANY_MARK = sql("SELECT EXISTS (SELECT 1 FROM budget_marks WHERE level = :level) AS found")


# -- the ledger ---------------------------------------------------------------------------


class UnpricedTurn(NamedTuple):
    """A turn of known tokens whose model had no price when it was recorded."""

    id: int
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


class Sums(NamedTuple):
    """A sum of turns: how many, their four token counts, the dollars of those whose cost is
    known, how many have none (``unknown``) and, of those, how many no usage either."""

    turns: int
    input: int
    output: int
    cache_read: int
    cache_write: int
    cost: float
    unknown: int
    no_usage: int


class KeyedSums(NamedTuple):
    """The sums of the turns of one value of a dimension (``key``: None for no value)."""

    key: int | str | None
    sums: Sums


@dataclass(frozen=True)
class TaskTurn:
    """One turn of a task, as ``swarm task show --json`` lists it."""

    recorded_at: float
    agent: str
    account: str
    cli: str | None
    model: str | None
    source: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None
    cost_from: str | None


@dataclass(frozen=True)
class LedgerTurn:
    """One turn's whole ledger row, as the export writes it."""

    id: int
    recorded_at: float
    day: str
    ref: str
    task_id: int | None
    agent: str
    account: str
    cli: str | None
    model: str | None
    source: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None
    cost_from: str | None


def add_turn(conn: Conn, row: tuple[Any, ...]) -> bool:
    """A turn's row (at, day, ref, task, agent, account, cli, model, source, its four token
    counts, cost, where the cost came from); False when its ref was recorded before."""
    found = conn.execute(ADD_TURN, dict(zip(TURN_COLUMNS, row, strict=True))).fetchone()
    return found is not None


def unpriced_turns(conn: Conn) -> list[UnpricedTurn]:
    """The turns of known tokens whose cost is unknown for want of a price: no cost, none
    said by the CLI, not held as suspect, their usage known."""
    return [UnpricedTurn(*values(row)) for row in conn.execute(UNPRICED_TURNS)]


def price_turn(conn: Conn, turn_id: int, cost: float) -> None:
    """Turn ``turn_id``'s cost, from the price table now (``cost_from`` ``price``)."""
    conn.execute(PRICE_TURN, {"cost": cost, "id": turn_id})


def _sums(found: tuple[Any, ...]) -> Sums:
    """The sums of ``SUMS``' columns (SQLite's sum of no cost is the integer 0)."""
    turns, tokens_in, out, read, write, cost, unknown, no_usage = found
    return Sums(int(turns), int(tokens_in), int(out), int(read), int(write), float(cost),
                int(unknown), int(no_usage))  # fmt: skip


def _keyed(rows: Cursor) -> list[KeyedSums]:
    return [KeyedSums(found[0], _sums(found[1:])) for found in map(values, rows)]


def sums_by(conn: Conn, column: str, since: float, until: float) -> list[KeyedSums]:
    """The sums per value of ``column`` (one of the ledger's, a key of ``SUMS_BY``), turns
    from ``since`` to ``until``."""
    return _keyed(conn.execute(SUMS_BY[column], {"since": since, "until": until}))


def sums_by_campaign(conn: Conn, since: float, until: float) -> list[KeyedSums]:
    """The sums per campaign of the turns on its tasks (``key``: the campaign's id; None for
    the turns of no campaign's task), turns from ``since`` to ``until``; a task's campaign is
    ``core.tasks``' (its fragment ``CAMPAIGN_TASKS``)."""
    return _keyed(conn.execute(SUMS_BY_CAMPAIGN, {"since": since, "until": until}))


def _one_sums(conn: Conn, statement: Sql, args: Params) -> Sums:
    return _sums(values(conn.execute(statement, args).fetchone()))


def sums_of_task(conn: Conn, task_id: int) -> Sums:
    """The sums of task ``task_id``'s turns."""
    return _one_sums(conn, SUMS_OF_TASK, {"task_id": task_id})


def sums_of_agent_day(conn: Conn, agent: str, day: str) -> Sums:
    """The sums of ``agent``'s turns of the UTC ``day``."""
    return _one_sums(conn, SUMS_OF_AGENT_DAY, {"agent": agent, "day": day})


def sums_of_campaign(conn: Conn, campaign_id: int) -> Sums:
    """The sums of the turns on the tasks of campaign ``campaign_id`` (their ids are
    ``core.tasks``': ``TASKS_OF_CAMPAIGN``)."""
    return _one_sums(conn, SUMS_OF_CAMPAIGN, {"campaign_id": campaign_id})


def sums_of_account_day(conn: Conn, account: str, day: str) -> Sums:
    """The sums of ``account``'s turns of the UTC ``day``."""
    return _one_sums(conn, SUMS_OF_ACCOUNT_DAY, {"account": account, "day": day})


def turns_of_task(conn: Conn, task_id: int) -> list[TaskTurn]:
    """``task_id``'s turns, oldest first."""
    return [TaskTurn(*values(row)) for row in conn.execute(TURNS_OF_TASK, {"task_id": task_id})]


def turns_after(conn: Conn, after_id: int, limit: int) -> list[LedgerTurn]:
    """Up to ``limit`` turns with an id above ``after_id``, in id order (the export)."""
    found = conn.execute(TURNS_AFTER, {"after_id": after_id, "limit": limit})
    return [LedgerTurn(*values(row)) for row in found]


# -- budgets ------------------------------------------------------------------------------


class Budget(NamedTuple):
    """A task's or a campaign's budget in dollars, and who set it when."""

    scope: str
    subject: str
    dollars: float
    set_at: float
    set_by: str


class CampaignBudget(NamedTuple):
    """A campaign's budget in dollars (``subject``: the campaign's id)."""

    subject: str
    dollars: float


class StopMark(NamedTuple):
    """A budget's crossing of 100 % (``period``: its day, or empty for a lasting one)."""

    id: int
    scope: str
    subject: str
    period: str
    at: float


def set_budget(conn: Conn, scope: str, subject: str, dollars: float, at: float, by: str) -> None:
    """``subject``'s budget in ``scope`` now ``dollars`` (set at ``at`` by ``by``), its marks
    forgotten."""
    conn.execute(
        SET_BUDGET,
        {"scope": scope, "subject": subject, "dollars": dollars, "at": at, "by": by},
    )
    conn.execute(FORGET_MARKS, {"scope": scope, "subject": subject})


def any_budget(conn: Conn, scope: str) -> bool:
    """Whether any budget of ``scope`` is set (one probe of the budgets' key)."""
    row = conn.execute(ANY_BUDGET, {"scope": scope}).fetchone()
    return bool(row["found"])


def budget_of(conn: Conn, scope: str, subject: str) -> float | None:
    """``subject``'s budget in ``scope`` in dollars, or None when it has none."""
    row = conn.execute(BUDGET, {"scope": scope, "subject": subject}).fetchone()
    return None if row is None else float(row["dollars"])


def all_budgets(conn: Conn) -> list[Budget]:
    """Every budget set, by scope and when it was set."""
    return [Budget(*values(row)) for row in conn.execute(ALL_BUDGETS)]


def add_mark(conn: Conn, mark: tuple[str, str, str, int, float]) -> bool:
    """A crossing (scope, subject, period, level, at); False when it was recorded before."""
    row = conn.execute(ADD_MARK, dict(zip(MARK_COLUMNS, mark, strict=True))).fetchone()
    return row is not None


def campaign_budget_of_task(conn: Conn, scope: str, task_id: int) -> CampaignBudget | None:
    """The budget of the campaign of task ``task_id`` (``scope``: the campaigns'), or None
    when it has none."""
    row = conn.execute(CAMPAIGN_BUDGET_OF_TASK, {"scope": scope, "task_id": task_id}).fetchone()
    return None if row is None else CampaignBudget(*values(row))


def stop_marks(
    conn: Conn, level: int, lasting: tuple[str, str], daily: tuple[str, str], day: str
) -> list[StopMark]:
    """The marks at ``level``: every one of the ``lasting`` scopes (tasks', campaigns'), and
    those of the ``daily`` scopes (agents', accounts') of ``day``, oldest first."""
    (lasting1, lasting2), (daily1, daily2) = lasting, daily
    found = conn.execute(
        STOP_MARKS,
        {
            "level": level,
            "lasting1": lasting1,
            "lasting2": lasting2,
            "daily1": daily1,
            "daily2": daily2,
            "day": day,
        },
    )
    return [StopMark(*values(row)) for row in found]


def any_mark(conn: Conn, level: int) -> bool:
    """Whether any budget ever reached ``level``."""
    row = conn.execute(ANY_MARK, {"level": level}).fetchone()
    return bool(row["found"])
