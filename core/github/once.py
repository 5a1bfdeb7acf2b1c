"""What swarm writes on GitHub, written once: every comment and review carries a hidden mark
(``<!-- swarm:T-3:takeover -->``) and is looked for, among swarm's own (written by its token's
login), before it is posted. A crash between GitHub's answer and swarm's record of it, a lost
answer or a rate limit in the middle of a step leaves the comment on GitHub and nothing in
the database: the next pass finds it instead of posting it again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.github.client import GitHub


def mark(key: str) -> str:
    """The hidden mark of ``key`` (an HTML comment: GitHub shows nothing of it)."""
    return f"<!-- swarm:{key} -->"


def marked(body: str, key: str) -> str:
    """``body`` with the mark of ``key`` (once)."""
    tag = mark(key)
    return body if tag in body else f"{body}\n\n{tag}"


def _ours(items: Iterable[Mapping[str, Any]], login: str, key: str) -> int | None:
    """The id of the first item ``login`` wrote that carries the mark of ``key``."""
    tag = mark(key)
    for item in items:
        author = str((item.get("user") or {}).get("login") or "")
        if author.lower() == login.lower() and tag in str(item.get("body") or ""):
            return int(item["id"])
    return None


async def find_comment(client: GitHub, number: int, key: str) -> int | None:
    """swarm's comment marked ``key`` on issue or PR ``number``, if it was posted."""
    return _ours(await client.issue_comments(number), await client.login(), key)


async def comment(client: GitHub, number: int, key: str, body: str) -> tuple[int, bool]:
    """swarm's comment marked ``key`` on ``number``: the one already there, else a new one
    with ``body``. Its id, and whether it was posted now."""
    found = await find_comment(client, number, key)
    if found is not None:
        return found, False
    return await client.comment(number, marked(body, key)), True


async def review(client: GitHub, number: int, key: str, payload: dict[str, Any]) -> int:
    """swarm's review marked ``key`` on PR ``number``: the one already there, else the one
    ``payload`` submits now. Its id."""
    found = _ours(await client.reviews(number), await client.login(), key)
    if found is not None:
        return found
    body = marked(str(payload.get("body") or ""), key)
    return await client.post_review(number, {**payload, "body": body})
