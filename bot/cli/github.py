"""``swarm github status|import``: the GitHub connection, and one import pass now.

Light at import: the client (gidgethub, httpx) loads when a command runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.args import seconds_arg
from bot.cli.output import emit_json

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


def register(sub: Any) -> None:
    """Add ``github status`` and ``github import``."""
    p = sub.add_parser(
        "github",
        help="GitHub in the loop: labelled issues become tasks, done tasks pull requests",
        description="Labelled issues of SWARM_GITHUB_REPO become tasks; a done task's branch "
        "is pushed and a PR opened; CI failures and reviews go back to the agent "
        "(docs/github.md). The coordinator (swarm run) polls; these commands look now.",
    )
    gsub = p.add_subparsers(dest="github_command", metavar="COMMAND", required=True)
    s = gsub.add_parser(
        "status", help="does the token work, its access and scopes, the rate limit left"
    )
    s.add_argument("--json", action="store_true")
    s.add_argument("--timeout", type=seconds_arg(), default=10.0, metavar="S", help="default 10 s")
    s.set_defaults(handler=cmd_status)
    i = gsub.add_parser(
        "import", help="import the labelled issues now, and follow the PRs (one pass)"
    )
    i.add_argument("--json", action="store_true")
    i.set_defaults(handler=cmd_import)


async def cmd_status(service: SwarmService, args: argparse.Namespace) -> int:
    """``swarm github status``: the connection's verdict and the issues followed."""
    from core.github.status import check

    settings = args.configuration.github
    verdict = await check(settings, args.timeout)
    followed = (
        [link.to_json() for link in await service.github.links(settings.repo, 50)]
        if settings.repo
        else []
    )
    if args.json:
        emit_json({"state": verdict.state, "detail": verdict.detail, "issues": followed})
    else:
        print(f"GitHub: {verdict.state}: {verdict.detail}")
        for item in followed:
            pr = f" PR #{item['pr']}" if item["pr"] else ""
            print(f"  #{item['issue']} → {item['task']} {item['shown'] or 'queued'}{pr}")
    return 1 if verdict.state == "problem" else 0


async def cmd_import(service: SwarmService, args: argparse.Namespace) -> int:
    """``swarm github import``: one pass now (the coordinator does the same every poll)."""
    from core.github.settings import require_library

    settings = args.configuration.github
    settings.require()
    require_library()
    from core.github_loop.sync import GitHubSync

    sync = GitHubSync(service, settings)
    try:
        result = await sync.run_pass()
    finally:
        await sync.stop()
    if args.json:
        emit_json(
            {
                "imported": {str(k): f"T-{v}" for k, v in result.imported.items()},
                "refused": {str(k): v for k, v in result.refused.items()},
                "cancelled": result.cancelled,
                "pull_requests": result.pushed,
            }
        )
        return 0
    for number, task_id in result.imported.items():
        print(f"issue #{number} → T-{task_id}")
    for number, why in result.refused.items():
        print(f"issue #{number} not imported: {why}")
    for number in result.cancelled:
        print(f"issue #{number} closed or unlabelled: its task cancelled")
    for number in result.pushed:
        print(f"PR #{number} opened or updated")
    if not (result.imported or result.refused or result.cancelled or result.pushed):
        print("nothing new")
    return 0
