"""``swarm task merge T-3`` for a task with a pull request: merged through GitHub's API when
its checks pass and a review approves; a conflict is found first (``git merge-tree``) and
reported with the files; nothing is merged otherwise."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.context import Ctx
from core.errors import InvalidState
from core.event_kinds import EventKind
from core.github import links, rules, trust
from core.github.settings import GitHubSettings, require_library
from core.models import parse_task_ref, task_ref
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.workspaces import work

if TYPE_CHECKING:
    from core.github.client import GitHub


async def merge_if_pull(
    service: SwarmService, settings: GitHubSettings, ref: str | int, actor: str
) -> str | None:
    """Merge the task's PR and say how; None when the task has no PR (a local merge then)."""
    if not settings.enabled:
        return None
    link = await service.store.read(links.link_of_task, parse_task_ref(ref))
    if link is None or link.pr is None:
        return None
    settings.require()
    require_library()
    from core.github.client import GitHub

    client = GitHub(settings)
    try:
        return await _merge(service, settings, client, link, actor)
    finally:
        await client.close()


async def _merge(
    service: SwarmService, settings: GitHubSettings, client: GitHub, link: links.Link, actor: str
) -> str:
    from core.github.push import conflicts

    assert link.pr is not None
    pull = await client.pull(link.pr)
    ref = task_ref(link.first_task)
    if pull.get("merged"):
        return f"PR #{link.pr} of {ref} is already merged"
    if pull.get("state") != "open":
        raise InvalidState(f"PR #{link.pr} of {ref} is closed: nothing merged")
    head = str(pull["head"]["sha"])
    base = str(pull["base"]["ref"])
    await _require_green(client, pull, f"PR #{link.pr} of {ref}")
    verdicts = await _verdicts(client, link.pr)
    if "APPROVED" not in verdicts.values() or "CHANGES_REQUESTED" in verdicts.values():
        raise InvalidState(
            f"PR #{link.pr} of {ref} needs an approving review by someone with write access "
            "(and no changes requested): nothing merged"
        )
    turns = [t for t in await service.store.read(work.turns, link.first_task) if t.start_sha]
    if turns:
        found = await asyncio.to_thread(
            conflicts, Path(turns[-1].path), settings.clone_url, settings.token or "", base, head
        )
        if found:
            raise InvalidState(
                f"PR #{link.pr} of {ref} conflicts with {base} in {', '.join(found[:10])}: "
                "nothing merged (merge the base into the branch first)"
            )
    merged = await client.merge(link.pr, head, f"{ref}: {pull.get('title', '')}"[:250])
    sha = str(merged.get("sha", ""))[:12]
    await service.store.write(
        actor, _merged, link, f"{ref}: PR #{link.pr} merged into {base} ({sha})"
    )
    if link.shown:
        await client.remove_label(link.issue, rules.status_label(link.shown))
    await client.add_labels(link.issue, [rules.status_label("merged")])
    return f"PR #{link.pr} of {ref} merged into {base} on GitHub ({sha})"


async def _require_green(client: GitHub, pull: dict[str, Any], what: str) -> None:
    """InvalidState unless CI ran on the PR's current head and every check there passed:
    each check the base's head has must be on the PR's head too (a head pushed after CI ran
    has none of them: "CI never ran on it"), and at least one check must have run."""
    head = str(pull["head"]["sha"])
    checks = await client.checks(head)
    waiting = [f"{c.name} ({c.state})" for c in checks if c.state != "success"]
    if waiting:
        raise InvalidState(f"{what}: checks not green: {', '.join(waiting)}: nothing merged")
    base_sha = str((pull.get("base") or {}).get("sha") or "")
    expected = {c.name for c in await client.checks(base_sha)} if base_sha else set()
    missing = sorted(expected - {c.name for c in checks})
    if missing or not checks:
        named = f" (missing: {', '.join(missing)})" if missing else ""
        raise InvalidState(
            f"{what}: no green CI on its head {head[:12]}{named}: CI has not run on the "
            "commit that would be merged; nothing merged"
        )


async def _verdicts(client: GitHub, pr: int) -> dict[str, str]:
    """Each writer's last verdict on the PR (an outsider's approval counts for nothing, as
    on GitHub's protected branches)."""
    writers = trust.Writers()
    verdicts: dict[str, str] = {}
    for review in await client.reviews(pr):
        login = str((review.get("user") or {}).get("login") or "")
        if review.get("state") not in {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}:
            continue
        if await writers.writes(client, login):
            verdicts[login.lower()] = str(review["state"])
    return verdicts


def _merged(conn: Conn, ctx: Ctx, link: links.Link, text: str) -> None:
    links.change(conn, link.id, ctx.now, state=links.CLOSED, shown="merged")
    links.note(conn, ctx, link.task_id, EventKind.GITHUB_MERGED, text)
