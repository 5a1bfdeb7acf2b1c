"""The statements of web tokens (``core.access.tokens``, table ``web_tokens``): a token's
hash stored, looked up, revoked once, listed, and whether any works. Each is one named
operation; no statement reads or returns a token itself."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn, sql

INSERT = sql(
    "INSERT INTO web_tokens (name, role, token_hash, created_at, expires_at, agent) "
    "VALUES (:name, :role, :token_hash, :now, :expires_at, :agent) RETURNING id"
)
BY_HASH = sql(
    "SELECT id, name, role, expires_at, revoked_at, agent FROM web_tokens "
    "WHERE token_hash = :token_hash"
)
REVOKE = sql(
    "UPDATE web_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL "
    "RETURNING name, role, agent"
)
ANY_LIVE = sql(
    "SELECT 1 FROM web_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL "
    "OR expires_at > :now) LIMIT 1"
)


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
        INSERT,
        {
            "name": name,
            "role": role,
            "token_hash": token_hash,
            "now": now,
            "expires_at": expires_at,
            "agent": agent,
        },
    )
    return int(cur.fetchone()["id"])


def by_hash(conn: Conn, token_hash: str) -> Any:
    """The row (``id``, ``name``, ``role``, ``expires_at``, ``revoked_at``, ``agent``) of
    the token with this hash, or None."""
    return conn.execute(BY_HASH, {"token_hash": token_hash}).fetchone()


def revoke(conn: Conn, token_id: int, now: float) -> Any:
    """Revoke the live token ``token_id``: its ``name``, ``role`` and ``agent``, or None
    when no live token has this id."""
    return conn.execute(REVOKE, {"now": now, "id": token_id}).fetchone()


def all_rows(conn: Conn) -> Any:
    """Every token's row, oldest first, without its hash."""
    return conn.execute(
        "SELECT id, name, role, agent, created_at, expires_at, revoked_at FROM web_tokens "
        "ORDER BY id"
    )


def any_live(conn: Conn, now: float) -> bool:
    """True when at least one token is neither revoked nor expired at ``now``."""
    return conn.execute(ANY_LIVE, {"now": now}).fetchone() is not None
