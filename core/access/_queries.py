"""The statements of web tokens (``_tokens``, table ``web_tokens``): a token's
hash stored, looked up, revoked once, listed, and whether any works. Each is one named
operation; no statement reads or returns a token itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from core.store.conn import Conn, sql

INSERT = sql(
    "INSERT INTO web_tokens (name, role, token_hash, created_at, expires_at, agent) "
    "VALUES (:name, :role, :token_hash, :now, :expires_at, :agent) RETURNING id"
)
COLUMNS = "id, name, role, agent, created_at, expires_at, revoked_at"
BY_HASH = sql(f"SELECT {COLUMNS} FROM web_tokens WHERE token_hash = :token_hash")
ALL = sql(f"SELECT {COLUMNS} FROM web_tokens ORDER BY id")
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


@dataclass(frozen=True)
class TokenRow:
    """A web token as stored, without its hash."""

    id: int
    name: str
    role: str
    agent: str | None
    created_at: float
    expires_at: float | None
    revoked_at: float | None


class Revoked(NamedTuple):
    """What a revoked token was."""

    name: str
    role: str
    agent: str | None


def by_hash(conn: Conn, token_hash: str) -> TokenRow | None:
    """The token with this hash, or None."""
    found = conn.execute(BY_HASH, {"token_hash": token_hash}).fetchone()
    return None if found is None else TokenRow(**found)


def revoke(conn: Conn, token_id: int, now: float) -> Revoked | None:
    """Revoke the live token ``token_id``: what it was, or None when no live token has this
    id."""
    found = conn.execute(REVOKE, {"now": now, "id": token_id}).fetchone()
    return None if found is None else Revoked(found["name"], found["role"], found["agent"])


def all_rows(conn: Conn) -> list[TokenRow]:
    """Every token, oldest first, without its hash."""
    return [TokenRow(**r) for r in conn.execute(ALL)]


def any_live(conn: Conn, now: float) -> bool:
    """True when at least one token is neither revoked nor expired at ``now``."""
    return conn.execute(ANY_LIVE, {"now": now}).fetchone() is not None
