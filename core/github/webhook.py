"""GitHub webhook deliveries: the signature checked (``X-Hub-Signature-256``: HMAC-SHA256 of
the body with ``SWARM_GITHUB_WEBHOOK_SECRET``), the relevant ones recorded as a
``github.webhook`` event. The GitHub loop sees that event at its next local tick (2 s) and
polls GitHub at once: the webhook only says *when* to look, the poll (ETags) says *what*
changed, so a lost, repeated or forged-but-valid delivery can never make a wrong task.

A delivery is taken once: its ``X-GitHub-Delivery`` id (GitHub keeps it on a redelivery) and
the digest of its body (the header is not signed: a replay under a new id has the same body)
are kept for ``WINDOW_S``; a signed delivery seen in that window is refused (409), so a
captured delivery replayed without limit wakes the loop once."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from core.context import Ctx
from core.event_kinds import EventKind
from core.github import queries
from core.history import event_queries
from core.store.conn import Conn
from core.store.tables import insert_event

KIND = EventKind.GITHUB_WEBHOOK
WINDOW_S = 7 * 86_400.0  # deliveries remembered (GitHub redelivers those of the last 3 days)
# the events that can change what swarm follows: issues and their labels, PRs, CI, reviews
RELEVANT = frozenset(
    {
        "issues",
        "issue_comment",
        "pull_request",
        "pull_request_review",
        "check_run",
        "check_suite",
        "status",
        "sub_issues",
    }
)


@dataclass(frozen=True)
class Delivery:
    """What the endpoint answers: the HTTP status and a short text."""

    status: int
    text: str
    record: bool = False


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is ``sha256=<hex HMAC of body>`` (compared in constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip())


def judge(secret: str | None, body: bytes, headers: dict[str, str]) -> Delivery:
    """Whether a delivery is accepted, and whether it is recorded (relevant events only)."""
    if not secret:
        return Delivery(404, "the GitHub webhook is off (SWARM_GITHUB_WEBHOOK_SECRET not set)")
    if not signature_ok(secret, body, headers.get("x-hub-signature-256")):
        return Delivery(401, "bad or missing X-Hub-Signature-256")
    event = headers.get("x-github-event", "")
    if event == "ping":
        return Delivery(200, "pong")
    try:
        json.loads(body or b"{}")
    except ValueError:
        return Delivery(400, "the body is not JSON")
    if event not in RELEVANT:
        return Delivery(202, f"ignored: {event[:40] or '(no event)'}")
    if not headers.get("x-github-delivery", "").strip():
        return Delivery(400, "no X-GitHub-Delivery header")
    return Delivery(202, "queued: the GitHub loop looks now", record=True)


REPLAYED = Delivery(409, "this delivery was received already (a replay): ignored")


def digest(body: bytes) -> str:
    """The SHA-256 of a delivery's body (what a replay under a new id still has)."""
    return hashlib.sha256(body).hexdigest()


def receive(conn: Conn, ctx: Ctx, event: str, delivery_id: str, body_digest: str) -> bool:
    """Record a signed, relevant delivery once: False (nothing recorded) when its id or its
    body was received in the last ``WINDOW_S``; older ones are forgotten here."""
    if not queries.receive_once(conn, delivery_id[:80], body_digest, ctx.now, ctx.now - WINDOW_S):
        return False
    record(conn, ctx, event, delivery_id)
    return True


def record(conn: Conn, ctx: Ctx, event: str, delivery_id: str) -> None:
    """The ``github.webhook`` event the loop wakes on (the event name and delivery id only:
    nothing of the untrusted body is stored)."""
    insert_event(
        conn,
        ctx.now,
        KIND,
        f"GitHub webhook: {event[:40]}",
        actor=ctx.actor,
        data={"event": event[:40], "delivery": delivery_id[:80]},
    )


def latest(conn: Conn) -> int:
    """The id of the newest ``github.webhook`` event (0: none)."""
    conn.flush_events()
    return event_queries.newest_id_of_kind(conn, KIND)


def headers_of(raw: Any) -> dict[str, str]:
    """Request headers as a dict with lower-case names."""
    return {str(k).lower(): str(v) for k, v in raw.items()}
