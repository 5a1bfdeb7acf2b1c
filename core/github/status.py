"""What ``swarm github status``, ``swarm doctor`` and Discord's ``/github status`` say: does
the token work, what may it do, how much of the rate limit is left. No token in any text."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigError
from core.formats.timetext import local_text
from core.github.settings import GitHubSettings, require_library
from core.waits import within

WRITE = frozenset({"admin", "maintain", "write"})


@dataclass(frozen=True)
class Verdict:
    """``ok`` (works), ``problem`` (set but broken) or ``skipped`` (not configured)."""

    state: str
    detail: str


async def check(settings: GitHubSettings, timeout_s: float = 10.0) -> Verdict:
    """One line about the connection: who, which permission, the scopes and the rate limit."""
    if not settings.enabled and not settings.token:
        return Verdict("skipped", "not configured (set SWARM_GITHUB_REPO and GITHUB_TOKEN)")
    try:
        settings.require()
        require_library()
    except ConfigError as exc:
        return Verdict("problem", str(exc))
    from core.github.client import GitHub, GitHubError

    client = GitHub(settings)
    try:
        found = await within(client.check(), timeout_s)
    except TimeoutError:
        return Verdict("problem", f"{settings.api_url} did not answer within {timeout_s:g} s")
    except GitHubError as exc:
        return Verdict("problem", str(exc))
    finally:
        await client.close()
    scopes = f"scopes {found.scopes or '(none)'}" if found.scopes is not None else "fine-grained"
    left = (
        f"rate limit {found.remaining}/{found.limit} left, resets "
        f"{local_text(found.reset_at, '%H:%M')}"
        if found.remaining is not None and found.reset_at is not None
        else "rate limit not reported"
    )
    line = f"{settings.repo} as {found.login}: {found.permission} access, {scopes}, {left}"
    if found.permission not in WRITE:
        return Verdict("problem", f"{line}: needs write access to push and open PRs")
    return Verdict("ok", line)
