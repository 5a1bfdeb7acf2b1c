"""The web tokens as the front ends ask for them: ``swarm web token``, the dashboard's and
MCP's bearer check, the start-up check that a dashboard open beyond localhost has one."""

from __future__ import annotations

from functools import partial
from typing import Any

from core.access import _tokens as tokens
from core.store.access import StoreAccess


class TokenBook:
    """Create, list, revoke and look up tokens (only hashes are stored)."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def create(
        self,
        token: str,
        name: str,
        role: tokens.Role,
        *,
        expires_in_s: float | None = None,
        agent: str | None = None,
        by: str,
        user: str = "",
    ) -> int:
        """Store ``token``'s hash (for ``agent``'s MCP tools when given), expiring
        ``expires_in_s`` from now (None: never); its id. The ``token.created`` event and
        audit row name ``by`` (and the OS ``user``), never the token."""
        now = self.access.clock.now()
        expires = now + expires_in_s if expires_in_s is not None else None
        create = partial(tokens.create, by=by, user=user)
        return await self.access.update(create, token, name, role, now, expires, agent)

    async def rows(self) -> list[dict[str, Any]]:
        """Every token, oldest first, without its hash, with its ``state`` now (``live``,
        ``expired``, ``revoked``)."""
        now = self.access.clock.now()
        return [
            {**row, "state": tokens.state(row, now)} for row in await self.access.read(tokens.rows)
        ]

    async def revoke(self, token_id: int, *, by: str, user: str = "") -> None:
        """Stop a token from working now (NotFound when no live token has this id)."""
        revoke = partial(tokens.revoke, by=by, user=user)
        await self.access.update(revoke, token_id, self.access.clock.now())

    async def lookup(self, token: str) -> tokens.Principal | None:
        """The principal of ``token`` if it is live now, else None."""
        return await self.access.read(tokens.lookup, token, self.access.clock.now())

    async def any_live(self) -> bool:
        """True when at least one token works now."""
        return await self.access.read(tokens.any_live, self.access.clock.now())
