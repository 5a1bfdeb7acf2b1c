"""The store's errors over real HTTP (uvicorn on a free port, the real app and service): a
database busy for now is 503 with ``Retry-After``; a change a constraint refuses is the
request's, 409, one line. On SQLite and PostgreSQL, where they arise differently: SQLite's
write lock held by another process (past ``SWARM_BUSY_TIMEOUT``) or a PostgreSQL wait ended
(``pg_cancel_backend``, as ``statement_timeout`` would); a task deleted by hand while another
is created after it is a foreign key refused on PostgreSQL (writers run side by side) and,
on SQLite (one writer at a time), a dependency that no longer exists (400)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import bearer
from tests.web.live import LiveDashboard

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


@pytest.fixture
def dashboard(home: Path, database_url: str | None) -> Iterator[LiveDashboard]:
    env = {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": database_url or ""}
    live = LiveDashboard(env | {"SWARM_BUSY_TIMEOUT": "0.2"})
    live.start()
    try:
        yield live
    finally:
        live.stop()


def _post_task(live: LiveDashboard, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{live.url}/api/v1/tasks", json=body, headers=bearer(live.admin_token), timeout=30
    )


def _in_thread(call: Callable[[], httpx.Response]) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(call()))
    thread.start()
    return thread, got


def test_a_busy_database_is_503_with_retry_after(
    dashboard: LiveDashboard, database_url: str | None
) -> None:
    if database_url is None:
        lite = sqlite3.connect(dashboard.env["SWARM_HOME"] + "/swarm.db", isolation_level=None)
        try:
            lite.execute("BEGIN IMMEDIATE")  # another process writes, longer than the timeout
            answer = _post_task(dashboard, {"title": "now"})
        finally:
            lite.close()
    else:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as other:
            other.execute("BEGIN")
            other.execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
            thread, got = _in_thread(lambda: _post_task(dashboard, {"title": "now"}))
            waiting = _waiting_backend(other)
            other.execute("SELECT pg_cancel_backend(%s)", (waiting,))
            thread.join(30)
            other.execute("ROLLBACK")
        (answer,) = got
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["error"].startswith("the database stayed busy")
    assert _post_task(dashboard, {"title": "later"}).status_code == 201  # it passes again


def test_a_dependency_deleted_meanwhile_is_409_on_postgresql_400_on_sqlite(
    dashboard: LiveDashboard, database_url: str | None
) -> None:
    first = _post_task(dashboard, {"title": "first"})
    assert first.status_code == 201, first.text
    body = {"title": "after it", "after": ["T-1"]}
    if database_url is None:
        _delete_first_task_sqlite(Path(dashboard.env["SWARM_HOME"]) / "swarm.db")
        answer = _post_task(dashboard, body)  # SQLite: after the delete, never beside it
        assert answer.status_code == 400, answer.text
        assert answer.json() == {"error": "dependency T-1 does not exist"}
        return
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("BEGIN")  # deleted by hand, not committed yet
        other.execute("DELETE FROM task_deps WHERE task_id = 1 OR dep_id = 1")
        other.execute("DELETE FROM tasks WHERE id = 1")
        thread, got = _in_thread(lambda: _post_task(dashboard, body))
        _waiting_backend(other)  # the new task saw T-1 and waits on its row
        other.execute("COMMIT")
        thread.join(30)
    (answer,) = got
    assert answer.status_code == 409, answer.text
    assert "Retry-After" not in answer.headers
    error = answer.json()["error"]
    assert error.startswith("database error: foreign key constraint failed")
    assert "\n" not in error
    listed = httpx.get(f"{dashboard.url}/api/v1/tasks", headers=bearer(dashboard.admin_token))
    assert listed.json()["tasks"] == []  # nothing of the refused change was kept


def _delete_first_task_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM task_deps WHERE task_id = 1 OR dep_id = 1")
        conn.execute("DELETE FROM tasks WHERE id = 1")
        conn.execute("COMMIT")
    finally:
        conn.close()


def _waiting_backend(conn: Any) -> int:
    """The pid of the session of this database that waits for a lock (the dashboard's)."""
    deadline = time.monotonic() + 30
    while True:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
        if row:
            return int(row[0])
        assert time.monotonic() < deadline, "the request never waited for the lock"
        time.sleep(0.02)
