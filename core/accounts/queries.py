"""Every statement of the accounts feature, each a named operation: ``account_breakers`` (the
breaker's rules are in ``core.accounts.breaker``); who may take a task is read by core.tasks,
the owner of ``tasks``."""

from __future__ import annotations

from core.accounts.rows import Breaker
from core.store.conn import Conn, sql, values

COLUMNS = (  # ``Breaker``'s
    "id, account, state, opened_at, until, failures, agent, evidence, probe_agent, "
    "probe_task, probe_at, moved"
)
NOT_CLOSED = sql(f"SELECT {COLUMNS} FROM account_breakers WHERE state <> :closed ORDER BY id")
OF_ACCOUNT = sql(f"SELECT {COLUMNS} FROM account_breakers WHERE account = :account")
MOVE_RESET = sql("UPDATE account_breakers SET until = :until, updated_at = :now WHERE id = :id")
OPEN_BREAKER = sql(
    "INSERT INTO account_breakers (account, state, opened_at, until, failures, agent, "
    "evidence, moved, updated_at) VALUES (:account, :state, :now, :until, :failures, :agent, "
    ":evidence, 0, :now) "
    "ON CONFLICT (account) DO UPDATE SET state = excluded.state, opened_at = "
    "excluded.opened_at, until = excluded.until, failures = excluded.failures, agent = "
    "excluded.agent, evidence = excluded.evidence, probe_agent = NULL, probe_task = NULL, "
    "probe_at = NULL, moved = CASE WHEN account_breakers.state = :closed THEN 0 ELSE "
    "account_breakers.moved END, updated_at = excluded.updated_at"
)
PROBE_AGAIN = sql(
    "UPDATE account_breakers SET state = :state, until = :now, probe_agent = NULL, "
    "probe_task = NULL, probe_at = NULL, updated_at = :now WHERE id = :id"
)
SET_STATE = sql("UPDATE account_breakers SET state = :state, updated_at = :now WHERE id = :id")
TAKE_PROBE = sql(
    "UPDATE account_breakers SET state = :probing, probe_agent = :agent, probe_task = :task, "
    "probe_at = :now, updated_at = :now WHERE account = :account AND state = :open_state"
)
ADD_MOVED = sql(
    "UPDATE account_breakers SET moved = moved + :count WHERE account = :account "
    "AND state <> :closed"
)


def not_closed(conn: Conn, closed: str) -> list[Breaker]:
    """The breakers whose state is not ``closed``, oldest first."""
    return [Breaker(*values(row)) for row in conn.execute(NOT_CLOSED, {"closed": closed})]


def of_account(conn: Conn, account: str) -> Breaker | None:
    """``account``'s breaker, if it ever opened."""
    row = conn.execute(OF_ACCOUNT, {"account": account}).fetchone()
    return None if row is None else Breaker(*values(row))


def move_reset(conn: Conn, breaker: int, until: float, now: float) -> None:
    """An open breaker's reset moved to ``until``."""
    conn.execute(MOVE_RESET, {"until": until, "now": now, "id": breaker})


def open_breaker(
    conn: Conn, account: str, state: str, closed: str, seen: tuple[float, float, int, str, str]
) -> None:
    """``account``'s breaker in ``state`` from ``seen`` (now, until, failures, the agent, the
    evidence), its probe forgotten; its count of moved tasks from zero when it was
    ``closed``."""
    now, until, failures, agent, evidence = seen
    conn.execute(
        OPEN_BREAKER,
        {
            "account": account,
            "state": state,
            "now": now,
            "until": until,
            "failures": failures,
            "agent": agent,
            "evidence": evidence,
            "closed": closed,
        },
    )


def probe_again(conn: Conn, breaker: int, state: str, now: float) -> None:
    """A probe that showed nothing forgotten: the breaker in ``state``, probed from ``now``."""
    conn.execute(PROBE_AGAIN, {"state": state, "now": now, "id": breaker})


def set_state(conn: Conn, breaker: int, state: str, now: float) -> None:
    """The breaker's state now ``state``."""
    conn.execute(SET_STATE, {"state": state, "now": now, "id": breaker})


def take_probe(
    conn: Conn, account: str, probe: tuple[str, int, float], probing: str, open_state: str
) -> None:
    """``account``'s open breaker probing with ``probe`` (the agent, its task, when)."""
    agent, task, now = probe
    conn.execute(
        TAKE_PROBE,
        {
            "probing": probing,
            "agent": agent,
            "task": task,
            "now": now,
            "account": account,
            "open_state": open_state,
        },
    )


def add_moved(conn: Conn, account: str, count: int, closed: str) -> None:
    """``count`` more tasks of ``account``'s went to another account's agents."""
    conn.execute(ADD_MOVED, {"count": count, "account": account, "closed": closed})
