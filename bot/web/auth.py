"""Who a request comes from: a bearer token (API) or the login cookie (dashboard).

Viewers read; admins act. Every acting request (allowed, refused or failed) is written to the
``audit`` table with the token's name. A POST (PATCH, DELETE) authenticated by the cookie
must carry the ``X-Swarm-CSRF`` header, which a page of another site cannot set.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import HTTPException, Request

from bot.errors import describe
from bot.web.context import WebContext, web_context
from core.access import Principal

log = logging.getLogger(__name__)
COOKIE = "swarm_token"
CSRF_HEADER = "X-Swarm-CSRF"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
T = TypeVar("T")
NO_TOKEN = "no token: send 'Authorization: Bearer <token>' (make one with: swarm web token create)"


class LoginNeeded(Exception):
    """A dashboard page was asked for without a valid cookie: go to the login page."""


def presented_token(request: Request) -> tuple[str | None, bool]:
    """The token of the request and whether it came from the cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(COOKIE)
    return (cookie, True) if cookie else (None, False)


async def principal_of(ctx: WebContext, token: str) -> Principal | None:
    """The live dashboard token's principal, else None (an agent's token opens only /mcp)."""
    found = await live_principal(ctx, token)
    return None if found is None or found.agent is not None else found


async def live_principal(ctx: WebContext, token: str) -> Principal | None:
    """The principal of any live token, an agent's too; else None."""
    return await ctx.service.tokens.lookup(token)


async def require_viewer(request: Request) -> Principal:
    """Any live token (API: 401 otherwise)."""
    ctx = web_context(request)
    token, from_cookie = presented_token(request)
    if token is None:
        raise HTTPException(401, NO_TOKEN)
    principal = await live_principal(ctx, token)
    if principal is None:
        raise HTTPException(401, "unknown, revoked or expired token")
    if principal.agent is not None:
        raise HTTPException(
            403, f"token {principal.name!r} is {principal.agent}'s MCP token: it opens only /mcp"
        )
    acts = request.method not in SAFE_METHODS  # POST, but also PATCH and DELETE
    if from_cookie and acts and CSRF_HEADER.lower() not in request.headers:
        raise HTTPException(403, f"a request authenticated by the cookie needs {CSRF_HEADER}")
    return principal


async def require_admin(request: Request) -> Principal:
    """An admin token; a viewer's acting request is refused (403) and audited."""
    principal = await require_viewer(request)
    if not principal.is_admin:
        ctx = web_context(request)
        left_out = ctx.refusals.admit(principal.token_id, ctx.service.clock.now())
        if left_out is not None:  # else: this token's refusals are written too often
            more = (
                f" (and {left_out} more refused since the previous row, not written)"
                if left_out
                else ""
            )
            await audit(request, principal, allowed=False, outcome=f"refused: viewer token{more}")
        raise HTTPException(
            403, f"token {principal.name!r} is a viewer token: only admin tokens may act"
        )
    return principal


async def page_viewer(request: Request) -> Principal:
    """A dashboard page's reader: the login cookie, else go to the login page."""
    token = request.cookies.get(COOKIE)
    principal = await principal_of(web_context(request), token) if token else None
    if principal is None:
        raise LoginNeeded()
    return principal


async def audit(request: Request, principal: Principal, *, allowed: bool, outcome: str) -> None:
    """One audit row for an acting request: the token's name, the method and path."""
    command = f"{request.method} {request.url.path}"
    await web_context(request).service.history.audit(
        f"web-token:{principal.token_id}", principal.name, command, allowed, outcome
    )


async def acting(request: Request, principal: Principal, call: Awaitable[T]) -> T:
    """Run an admin's action and audit it with its outcome (the error text when it fails)."""
    try:
        result = await call
    except Exception as exc:
        await audit(request, principal, allowed=True, outcome=f"error: {describe(exc) or exc}")
        raise
    await audit(request, principal, allowed=True, outcome="ok")
    return result
