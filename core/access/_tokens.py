"""Bearer tokens of the dashboard and the REST API: created once, only their hash kept.

Store functions of a ``Conn`` (run with ``Database.read``/``write``), like the
rest of the store. A token is ``swt_`` and 43 random URL-safe characters; its SHA-256 is
what the ``web_tokens`` table holds, so the database never holds a usable token.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from core.access import _queries as queries
from core.errors import InvalidInput, NotFound
from core.event_kinds import EventKind
from core.formats.text import one_line
from core.history.audit_queries import insert_audit
from core.store.conn import Conn
from core.store.tables import insert_event

PREFIX = "swt_"
NAME_MAX = 60
AUDITED: dict[EventKind, str] = {
    EventKind.TOKEN_CREATED: "web token create",
    EventKind.TOKEN_REVOKED: "web token revoke",
}


class Role(enum.StrEnum):
    """What a token may do: viewers read, admins also act; an agent's token opens only the
    MCP endpoint (``/mcp``), as that agent."""

    viewer = "viewer"
    admin = "admin"
    agent = "agent"


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: a live token's id, name and role."""

    token_id: int
    name: str
    role: Role
    agent: str | None = None  # the agent an agent token acts as (role ``agent``)

    @property
    def actor(self) -> str:
        """The actor recorded in events (``web:laptop``)."""
        return f"web:{self.name}"

    @property
    def is_admin(self) -> bool:
        """True for an admin token."""
        return self.role is Role.admin


def new_token() -> str:
    """A fresh random token (shown once, never stored)."""
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def check_name(name: str) -> str:
    """A token name: one line, 1-60 characters."""
    clean = name.strip()
    if not clean or len(clean) > NAME_MAX or clean != one_line(clean):
        raise InvalidInput(f"a token name is one line of 1 to {NAME_MAX} characters")
    return clean


def create(
    conn: Conn,
    token: str,
    name: str,
    role: Role,
    now: float,
    expires_at: float | None = None,
    agent: str | None = None,
    *,
    by: str = "cli",
    user: str = "",
) -> int:
    """Store the hash of ``token``; return its id. An agent token (role ``agent``) names
    its ``agent``; the other roles name none. Recorded in the same transaction: a
    ``token.created`` event and an audit row, made ``by`` an actor (``user``: the OS
    user), never the token."""
    if (role is Role.agent) != (agent is not None):
        raise InvalidInput("an agent token names its agent, and only an agent token does")
    name = check_name(name)
    token_id = queries.insert(conn, name, role.value, token_hash(token), now, expires_at, agent)
    what = f"{agent}'s MCP token" if agent else f"{role.value} token"
    until = "never expires" if expires_at is None else f"expires {_utc(expires_at)}"
    _record(
        conn,
        now,
        (
            EventKind.TOKEN_CREATED,
            f"web token {token_id} created by {by}: {what} {name!r}, {until}",
        ),
        (by, user, agent),
        {"token": token_id, "role": role.value, "name": name, "expires_at": expires_at},
    )
    return token_id


def _record(
    conn: Conn,
    now: float,
    said: tuple[EventKind, str],
    who: tuple[str, str, str | None],
    data: dict[str, Any],
) -> None:
    """The event ``said`` (kind, text) and its audit row, by ``who`` (actor, OS user,
    agent)."""
    kind, text = said
    by, user, agent = who
    shown = f"{text} ({user})" if user else text
    insert_event(conn, now, kind, shown, agent=agent, actor=by, data={**data, "user": user})
    insert_audit(conn, now, user or by, by, AUDITED[kind], True, text)


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def lookup(conn: Conn, token: str, now: float) -> Principal | None:
    """The principal of a live token (not revoked, not expired), else None."""
    found = queries.by_hash(conn, token_hash(token))
    if found is None or found.revoked_at is not None:
        return None
    if found.expires_at is not None and found.expires_at <= now:
        return None
    return Principal(found.id, found.name, Role(found.role), found.agent)


def revoke(conn: Conn, token_id: int, now: float, *, by: str = "cli", user: str = "") -> None:
    """Stop a token from working (a ``token.revoked`` event and an audit row); NotFound when
    no live token has this id."""
    gone = queries.revoke(conn, token_id, now)
    if gone is None:
        raise NotFound(f"no live web token with id {token_id} (see swarm web token list)")
    text = f"web token {token_id} ({gone.role}, {gone.name!r}) revoked by {by}"
    _record(conn, now, (EventKind.TOKEN_REVOKED, text), (by, user, gone.agent), {"token": token_id})


def rows(conn: Conn) -> list[dict[str, Any]]:
    """Every token, oldest first, without its hash."""
    return [asdict(r) for r in queries.all_rows(conn)]


def state(row: dict[str, Any], now: float) -> str:
    """``live``, ``expired`` or ``revoked``: what ``rows`` gives, at ``now``."""
    if row["revoked_at"] is not None:
        return "revoked"
    expires = row["expires_at"]
    return "expired" if expires is not None and expires <= now else "live"


def any_live(conn: Conn, now: float) -> bool:
    """True when at least one token works."""
    return queries.any_live(conn, now)
