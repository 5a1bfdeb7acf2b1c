"""githubkit or gidgethub for swarm's GitHub loop: import time and requests per second on the
calls the loop makes, against a local GitHub (packages/localgithub, in this process).

Run: .venv/bin/python bench/github_client.py [--calls 200] [--imports 5]

Calls, each ``--calls`` times per library, alternating libraries per round (three rounds):
the labelled-issues list (the poll: first a full answer, then conditional, ``304``), an
issue's events, a collaborator's permission, a new comment, a comment edited. Import time:
a fresh interpreter importing the library (median of ``--imports``), against ``import httpx``
(the transport both use here) as the baseline. Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from localgithub.server import LocalGitHub

from core.github.client import GitHub as Gidget
from core.github.settings import GitHubSettings

REPO = "acme/app"
Call = Callable[[], Awaitable[Any]]


def import_ms(statement: str, runs: int) -> float:
    """Median wall time of a fresh interpreter running ``statement`` less an empty one."""

    def once(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - started

    empty = statistics.median(once("pass") for _ in range(runs))
    return (statistics.median(once(statement) for _ in range(runs)) - empty) * 1000


async def rate(call: Call, count: int) -> float:
    """Calls per second of ``call`` run ``count`` times one after another."""
    await call()  # warm: connection, first page cached
    started = time.perf_counter()
    for _ in range(count):
        await call()
    return count / (time.perf_counter() - started)


def gidget_calls(gh: Gidget, comment: int) -> dict[str, Call]:
    return {
        "poll (304)": gh.labelled_issues,
        "issue events": lambda: gh.issue_events(1),
        "permission": lambda: gh.permission("maria"),
        "new comment": lambda: gh.comment(1, "progress"),
        "edit comment": lambda: gh.edit_comment(comment, "progress, edited"),
    }


def kit_calls(kit: Any, comment: int) -> dict[str, Call]:
    issues, repos = kit.rest.issues, kit.rest.repos
    return {
        "poll (304)": lambda: issues.async_list_for_repo(
            "acme", "app", labels="swarm", state="open", per_page=100
        ),
        "issue events": lambda: issues.async_list_events("acme", "app", 1, per_page=100),
        "permission": lambda: repos.async_get_collaborator_permission_level("acme", "app", "maria"),
        "new comment": lambda: issues.async_create_comment("acme", "app", 1, body="progress"),
        "edit comment": lambda: issues.async_update_comment(
            "acme", "app", comment, body="progress, edited"
        ),
    }


async def measure(calls: int) -> dict[str, dict[str, list[float]]]:
    from githubkit import GitHub as Kit

    found: dict[str, dict[str, list[float]]] = {"gidgethub": {}, "githubkit": {}}
    with tempfile.TemporaryDirectory() as folder:
        async with LocalGitHub(Path(folder)) as server:
            server.add_user("acme", "admin")
            token = server.add_user("swarm-bot", "write")
            server.add_user("maria", "write")
            server.create_repo(REPO, files={"README.md": "# app\n"})
            server.open_issue(REPO, "One", "x", labels=["swarm"], labeled_by="maria")
            comment = server.comment(REPO, 1, "first", user="swarm-bot")
            settings = GitHubSettings(repo=REPO, token=token, api_url=server.api_url)
            gidget = Gidget(settings)
            # as a context manager githubkit keeps one connection pool (else one per request)
            async with Kit(token, base_url=server.api_url + "/") as kit:
                for _ in range(3):
                    for name, made in (
                        ("gidgethub", gidget_calls(gidget, comment)),
                        ("githubkit", kit_calls(kit, comment)),
                    ):
                        for call, fn in made.items():
                            found[name].setdefault(call, []).append(await rate(fn, calls))
            await gidget.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--imports", type=int, default=5)
    args = parser.parse_args()
    base = import_ms("import httpx", args.imports)
    print(f"import time, median of {args.imports} (ms over an empty interpreter):")
    print(f"  httpx (baseline)   {base:7.0f}")
    for name, statement in (
        ("gidgethub", "import gidgethub.abc, httpx"),
        ("githubkit", "import githubkit; g = githubkit.GitHub('x'); g.rest.issues"),
    ):
        print(f"  {name:<18} {import_ms(statement, args.imports):7.0f}")
    found = asyncio.run(measure(args.calls))
    print(f"requests/s, median of 3 rounds of {args.calls} calls:")
    print(f"  {'call':<14} {'gidgethub':>10} {'githubkit':>10} {'ratio':>7}")
    for call in found["gidgethub"]:
        gid = statistics.median(found["gidgethub"][call])
        kit = statistics.median(found["githubkit"][call])
        print(f"  {call:<14} {gid:10.0f} {kit:10.0f} {gid / kit:6.2f}x")


if __name__ == "__main__":
    main()
