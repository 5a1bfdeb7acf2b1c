"""Every statement of the accounts feature, each a named operation: ``account_breakers`` (the
breaker's rules are in ``core.accounts.breaker``) and the reads of ``tasks`` that say who may
take a task (``core.accounts.waiting``)."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn

COLUMNS = (
    "id, account, state, opened_at, until, failures, agent, evidence, probe_agent, "
    "probe_task, probe_at, moved"
)


def not_closed(conn: Conn, closed: str) -> list[Any]:
    """The rows of the breakers whose state is not ``closed``, oldest first."""
    rows: list[Any] = conn.execute(
        f"SELECT {COLUMNS} FROM account_breakers WHERE state <> $1 ORDER BY id", (closed,)
    ).fetchall()
    return rows


def of_account(conn: Conn, account: str) -> Any:
    """``account``'s row, if its breaker ever opened."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM account_breakers WHERE account = $1", (account,)
    ).fetchone()


def move_reset(conn: Conn, breaker: int, until: float, now: float) -> None:
    """An open breaker's reset moved to ``until``."""
    conn.execute(
        "UPDATE account_breakers SET until = $1, updated_at = $2 WHERE id = $3",
        (until, now, breaker),
    )


def open_breaker(
    conn: Conn, account: str, state: str, closed: str, seen: tuple[float, float, int, str, str]
) -> None:
    """``account``'s breaker in ``state`` from ``seen`` (now, until, failures, the agent, the
    evidence), its probe forgotten; its count of moved tasks from zero when it was
    ``closed``."""
    now, until, failures, agent, evidence = seen
    conn.execute(
        "INSERT INTO account_breakers (account, state, opened_at, until, failures, agent, "
        "evidence, moved, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) "
        "ON CONFLICT (account) DO UPDATE SET state = excluded.state, opened_at = "
        "excluded.opened_at, until = excluded.until, failures = excluded.failures, agent = "
        "excluded.agent, evidence = excluded.evidence, probe_agent = NULL, probe_task = NULL, "
        "probe_at = NULL, moved = CASE WHEN account_breakers.state = $9 THEN 0 ELSE "
        "account_breakers.moved END, updated_at = excluded.updated_at",
        (account, state, now, until, failures, agent, evidence, now, closed),
    )


def probe_again(conn: Conn, breaker: int, state: str, now: float) -> None:
    """A probe that showed nothing forgotten: the breaker in ``state``, probed from ``now``."""
    conn.execute(
        "UPDATE account_breakers SET state = $1, until = $2, probe_agent = NULL, "
        "probe_task = NULL, probe_at = NULL, updated_at = $2 WHERE id = $3",
        (state, now, breaker),
    )


def set_state(conn: Conn, breaker: int, state: str, now: float) -> None:
    """The breaker's state now ``state``."""
    conn.execute(
        "UPDATE account_breakers SET state = $1, updated_at = $2 WHERE id = $3",
        (state, now, breaker),
    )


def take_probe(
    conn: Conn, account: str, probe: tuple[str, int, float], probing: str, open_state: str
) -> None:
    """``account``'s open breaker probing with ``probe`` (the agent, its task, when)."""
    agent, task, now = probe
    conn.execute(
        "UPDATE account_breakers SET state = $1, probe_agent = $2, probe_task = $3, "
        "probe_at = $4, updated_at = $4 WHERE account = $5 AND state = $6",
        (probing, agent, task, now, account, open_state),
    )


def add_moved(conn: Conn, account: str, count: int, closed: str) -> None:
    """``count`` more tasks of ``account``'s went to another account's agents."""
    conn.execute(
        "UPDATE account_breakers SET moved = moved + $1 WHERE account = $2 AND state <> $3",
        (count, account, closed),
    )


def task_takers(conn: Conn, task_id: int) -> Any:
    """What decides who may take ``task_id``: its status, role, capabilities, pinned agent."""
    return conn.execute(
        "SELECT status, role, capabilities, pinned_agent FROM tasks WHERE id = $1", (task_id,)
    ).fetchone()


def ready_takers(conn: Conn) -> list[Any]:
    """The role, capabilities and pinned agent of every ready task."""
    rows: list[Any] = conn.execute(
        "SELECT role, capabilities, pinned_agent FROM tasks WHERE status = 'ready'"
    ).fetchall()
    return rows
