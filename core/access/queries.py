"""The statements of web tokens (``core.access.tokens``, table ``web_tokens``): a token's
hash stored, looked up, revoked once, listed, and whether any works. Each is one named
operation; no statement reads or returns a token itself."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn


def insert(
    conn: Conn,
    name: str,
    role: str,
    token_hash: str,
    now: float,
    expires_at: float | None,
    agent: str | None,
) -> int:
    """Store a token's hash: its id."""
    cur = conn.execute(
        "INSERT INTO web_tokens (name, role, token_hash, created_at, expires_at, agent) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        (name, role, token_hash, now, expires_at, agent),
    )
    return int(cur.fetchone()["id"])


def by_hash(conn: Conn, token_hash: str) -> Any:
    """The row (``id``, ``name``, ``role``, ``expires_at``, ``revoked_at``, ``agent``) of
    the token with this hash, or None."""
    return conn.execute(
        "SELECT id, name, role, expires_at, revoked_at, agent FROM web_tokens "
        "WHERE token_hash = $1",
        (token_hash,),
    ).fetchone()


def revoke(conn: Conn, token_id: int, now: float) -> Any:
    """Revoke the live token ``token_id``: its ``name``, ``role`` and ``agent``, or None
    when no live token has this id."""
    return conn.execute(
        "UPDATE web_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL "
        "RETURNING name, role, agent",
        (now, token_id),
    ).fetchone()


def all_rows(conn: Conn) -> Any:
    """Every token's row, oldest first, without its hash."""
    return conn.execute(
        "SELECT id, name, role, agent, created_at, expires_at, revoked_at FROM web_tokens "
        "ORDER BY id"
    )


def any_live(conn: Conn, now: float) -> bool:
    """True when at least one token is neither revoked nor expired at ``now``."""
    return (
        conn.execute(
            "SELECT 1 FROM web_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL "
            "OR expires_at > $1) LIMIT 1",
            (now,),
        ).fetchone()
        is not None
    )
