"""Every statement of the cost feature, each a named operation: ``turn_usage`` (the ledger,
``core.costs.ledger``), ``budgets`` and ``budget_marks`` (``core.costs.budgets``)."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn, sql

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
SUMS_BY_CAMPAIGN = sql(
    f"SELECT c.campaign_id AS k, {SUMS} FROM turn_usage LEFT JOIN (SELECT id AS task, "
    "campaign_id FROM tasks WHERE campaign_id IS NOT NULL) c ON c.task = "
    "turn_usage.task_id WHERE at >= :since AND at <= :until GROUP BY c.campaign_id "
    "ORDER BY cost DESC, turns DESC"
)
SUMS_OF_TASK = sql(f"SELECT {SUMS} FROM turn_usage WHERE task_id = :task_id")
SUMS_OF_AGENT_DAY = sql(f"SELECT {SUMS} FROM turn_usage WHERE agent = :agent AND day = :day")
SUMS_OF_CAMPAIGN = sql(
    f"SELECT {SUMS} FROM turn_usage WHERE task_id IN (SELECT id FROM tasks WHERE "
    "campaign_id = :campaign_id)"
)
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
    "SELECT b.subject, b.dollars FROM tasks t JOIN budgets b ON b.scope = :scope AND "
    "b.subject = CAST(t.campaign_id AS TEXT) WHERE t.id = :task_id"
)
STOP_MARKS = sql(
    "SELECT id, scope, subject, period, at FROM budget_marks WHERE level = :level AND "
    "(scope IN (:lasting1, :lasting2) OR (scope IN (:daily1, :daily2) AND period = :day)) "
    "ORDER BY id"
)
ANY_MARK = sql("SELECT EXISTS (SELECT 1 FROM budget_marks WHERE level = :level) AS found")


# -- the ledger ---------------------------------------------------------------------------


def add_turn(conn: Conn, row: tuple[Any, ...]) -> bool:
    """A turn's row (at, day, ref, task, agent, account, cli, model, source, its four token
    counts, cost, where the cost came from); False when its ref was recorded before."""
    found = conn.execute(ADD_TURN, dict(zip(TURN_COLUMNS, row, strict=True))).fetchone()
    return found is not None


def unpriced_turns(conn: Conn) -> list[Any]:
    """The turns of known tokens whose cost is unknown for want of a price (``id``,
    ``model``, the four token counts): no cost, none said by the CLI, not held as suspect,
    their usage known."""
    rows: list[Any] = conn.execute(
        "SELECT id, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens "
        "FROM turn_usage WHERE cost_usd IS NULL AND cost_from IS NULL AND model IS NOT NULL "
        "ORDER BY id"
    ).fetchall()
    return rows


def price_turn(conn: Conn, turn_id: int, cost: float) -> None:
    """Turn ``turn_id``'s cost, from the price table now (``cost_from`` ``price``)."""
    conn.execute(PRICE_TURN, {"cost": cost, "id": turn_id})


def sums_by(conn: Conn, column: str, since: float, until: float) -> list[Any]:
    """The sums per value of ``column`` (one of the ledger's, a key of ``SUMS_BY``), turns
    from ``since`` to ``until``."""
    rows: list[Any] = conn.execute(SUMS_BY[column], {"since": since, "until": until}).fetchall()
    return rows


def sums_by_campaign(conn: Conn, since: float, until: float) -> list[Any]:
    """The sums per campaign of the turns on its tasks (``k``: the campaign's id; None for
    the turns of no campaign's task), turns from ``since`` to ``until``; the campaigns are
    ``core.tasks``' (a task's ``campaign_id``, read here as for a campaign's budget)."""
    rows: list[Any] = conn.execute(SUMS_BY_CAMPAIGN, {"since": since, "until": until}).fetchall()
    return rows


def sums_of_task(conn: Conn, task_id: int) -> Any:
    return conn.execute(SUMS_OF_TASK, {"task_id": task_id}).fetchone()


def sums_of_agent_day(conn: Conn, agent: str, day: str) -> Any:
    return conn.execute(SUMS_OF_AGENT_DAY, {"agent": agent, "day": day}).fetchone()


def sums_of_campaign(conn: Conn, campaign_id: int) -> Any:
    """The sums of the turns on the tasks of campaign ``campaign_id`` (the tasks are
    ``core.tasks``'; a campaign's budget, below it, reads their ids here)."""
    return conn.execute(SUMS_OF_CAMPAIGN, {"campaign_id": campaign_id}).fetchone()


def sums_of_account_day(conn: Conn, account: str, day: str) -> Any:
    return conn.execute(SUMS_OF_ACCOUNT_DAY, {"account": account, "day": day}).fetchone()


def turns_of_task(conn: Conn, task_id: int) -> list[Any]:
    """``task_id``'s turn rows, oldest first."""
    rows: list[Any] = conn.execute(TURNS_OF_TASK, {"task_id": task_id}).fetchall()
    return rows


def turns_after(conn: Conn, after_id: int, limit: int) -> list[Any]:
    """Up to ``limit`` turn rows with an id above ``after_id``, in id order (the export)."""
    rows: list[Any] = conn.execute(TURNS_AFTER, {"after_id": after_id, "limit": limit}).fetchall()
    return rows


# -- budgets ------------------------------------------------------------------------------


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


def budget_of(conn: Conn, scope: str, subject: str) -> Any:
    return conn.execute(BUDGET, {"scope": scope, "subject": subject}).fetchone()


def all_budgets(conn: Conn) -> list[Any]:
    """Every budget set (``scope``, ``subject``, ``dollars``, ``set_at``, ``set_by``), by
    scope and when it was set."""
    rows: list[Any] = conn.execute(
        "SELECT scope, subject, dollars, set_at, set_by FROM budgets ORDER BY scope, set_at, "
        "subject"
    ).fetchall()
    return rows


def add_mark(conn: Conn, mark: tuple[str, str, str, int, float]) -> bool:
    """A crossing (scope, subject, period, level, at); False when it was recorded before."""
    row = conn.execute(ADD_MARK, dict(zip(MARK_COLUMNS, mark, strict=True))).fetchone()
    return row is not None


def campaign_budget_of_task(conn: Conn, scope: str, task_id: int) -> Any:
    """The budget (``subject``: the campaign's id, ``dollars``) of the campaign of task
    ``task_id`` (``scope``: the campaigns'), or None when it has none."""
    return conn.execute(CAMPAIGN_BUDGET_OF_TASK, {"scope": scope, "task_id": task_id}).fetchone()


def stop_marks(
    conn: Conn, level: int, lasting: tuple[str, str], daily: tuple[str, str], day: str
) -> list[Any]:
    """The marks at ``level``: every one of the ``lasting`` scopes (tasks', campaigns'), and
    those of the ``daily`` scopes (agents', accounts') of ``day``, oldest first."""
    (lasting1, lasting2), (daily1, daily2) = lasting, daily
    rows: list[Any] = conn.execute(
        STOP_MARKS,
        {
            "level": level,
            "lasting1": lasting1,
            "lasting2": lasting2,
            "daily1": daily1,
            "daily2": daily2,
            "day": day,
        },
    ).fetchall()
    return rows


def any_mark(conn: Conn, level: int) -> bool:
    """Whether any budget ever reached ``level``."""
    row = conn.execute(ANY_MARK, {"level": level}).fetchone()
    return bool(row["found"])
