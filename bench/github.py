"""The GitHub loop's figures, against a local GitHub (packages/localgithub) with the loop as
a timer of the real scheduler (as ``swarm run`` has it) over a SQLite home.

Run: .venv/bin/python bench/github.py [--poll 60] [--issues 5] [--idle-passes 20]

1. Labelled issue → task: issues opened at random moments while the loop runs with
   ``--poll`` (default 60 s, SWARM_GITHUB_POLL's default); from the issue's creation until
   its task is in the database (polled every 20 ms); p50 and max. Baseline in the same run:
   the same with a webhook delivery per issue (the loop's 2 s local tick sees it).
2. Requests per hour: the requests one poll pass makes, counted by the server, times passes
   per hour, for an idle repository (nothing changed) and for 50 active tasks (their issues
   imported, tasks in progress: nothing to push yet) and 50 tasks with open PRs (their
   checks and reviews followed); ``304`` answers (which GitHub does not count against the
   rate limit) shown apart.
3. Done → PR: a task done in its workspace until its PR exists on the server (the loop's
   2 s tick pushes the branch and opens it).
Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from localgithub.server import LocalGitHub

from automation.inbox.files import InboxDeliverer
from core.coordinator.scheduler import Scheduler
from core.github import webhook
from core.github.settings import GitHubSettings
from core.github_loop import sync as sync_module
from core.github_loop.sync import GitHubSync
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import Conn
from core.workspaces import InitRequest, init

REPO = "acme/app"


async def wait_for(check: Callable[[], Awaitable[bool]], limit_s: float = 600.0) -> float:
    """Seconds until ``await check()`` is true (polled every 20 ms)."""
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > limit_s:
            raise TimeoutError(f"not within {limit_s:g} s")
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


async def has_task(service: SwarmService, title: str) -> bool:
    return any(t.title.endswith(title) for t in await service.tasks.newest(limit=500))


async def latency(
    server: LocalGitHub, service: SwarmService, issues: int, poll: float, hook: bool
) -> list[float]:
    found = []
    for index in range(issues):
        await asyncio.sleep(random.uniform(0, poll))  # a moment in the poll cycle
        title = f"{'hooked' if hook else 'polled'} issue {index}"
        server.open_issue(REPO, title, "x", labels=["swarm"], labeled_by="maria")
        if hook:  # what POST /api/v1/github/webhook records for an `issues` delivery
            await service.store.write("github", webhook.record, "issues", f"d-{index}")
        found.append(await wait_for(partial(has_task, service, title)))
        print(f"  {title}: {found[-1]:.1f} s", file=sys.stderr)
    return found


async def requests_per_pass(
    server: LocalGitHub, sync: GitHubSync, passes: int
) -> tuple[float, float]:
    """Mean requests of one poll pass, and of them the ``304`` answers."""
    await sync.run_pass()
    await sync.run_pass()  # settled: swarm's own comments and labels seen once
    before = len(server.requests)
    for _ in range(passes):
        await sync.run_pass()
    made = server.requests[before:]
    return len(made) / passes, sum(r.status == 304 for r in made) / passes


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


async def done_to_pr(
    server: LocalGitHub, service: SwarmService, folder: Path, runs: int
) -> list[float]:
    repo = folder / "project"
    await asyncio.to_thread(git, folder, "clone", "-q", server.clone_url(REPO), str(repo))
    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = service.settings.home / "workspaces" / "project" / "Agent-1"
    for left in await service.tasks.newest(open_only=True, limit=500):  # Agent-1 free for these
        await service.tasks.cancel(left.id, "bench")
    found = []
    for index in range(runs):
        title = f"pr issue {index}"
        server.open_issue(REPO, title, "x", labels=["swarm"], labeled_by="maria")
        await service.store.write("github", webhook.record, "issues", f"pr-{index}")
        await wait_for(partial(has_task, service, title))
        (task,) = [t for t in await service.tasks.newest(limit=500) if t.title.endswith(title)]
        await service.tasks.assign(task.id, "Agent-1", "cli")
        await wait_for(partial(_delivered, service, task.id))
        await service.tasks.start(task.id, "Agent-1")
        (tree / f"f{index}.py").write_text(f"X = {index}\n")
        await asyncio.to_thread(git, tree, "add", ".")
        await asyncio.to_thread(git, tree, "commit", "-q", "-m", f"work {index}")
        head = (await asyncio.to_thread(git, tree, "rev-parse", "HEAD")).strip()
        pulls_before = _pulls(server)
        await service.tasks.complete(task.id, "Agent-1", "done")
        found.append(await wait_for(partial(_pushed, server, head, pulls_before, index == 0), 60))
    return found


async def _delivered(service: SwarmService, task_id: int) -> bool:
    return (await service.tasks.get(task_id)).status.value == "assigned"


def _pulls(server: LocalGitHub) -> int:
    return sum(i.pull is not None for i in server.repo(REPO).issues.values())


async def _pushed(server: LocalGitHub, head: str, pulls_before: int, first: bool) -> bool:
    if server.branch_sha(REPO, "swarm/Agent-1") != head:
        return False
    return _pulls(server) > pulls_before if first else True  # later: the same PR, updated


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as raw:
        folder = Path(raw)
        for key, value in {
            "GIT_AUTHOR_NAME": "b",
            "GIT_AUTHOR_EMAIL": "b@x.invalid",
            "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@x.invalid",
        }.items():
            import os

            os.environ[key] = value
        async with LocalGitHub(folder / "github") as server:
            server.add_user("acme", "admin")
            token = server.add_user("swarm-bot", "write")
            server.add_user("maria", "write")
            server.create_repo(REPO, files={"README.md": "# app\n"})
            settings = GitHubSettings(
                repo=REPO,
                token=token,
                api_url=server.api_url,
                git_url=server.url,
                poll_s=args.poll,
            )
            home = folder / "home"
            service = await SwarmService.open(Settings.from_env({"SWARM_HOME": str(home)}))
            if not args.requests_only:
                await latencies(server, service, settings, args, folder)
            await count_requests(server, service, token, args, folder)
            await service.close()


async def latencies(
    server: LocalGitHub,
    service: SwarmService,
    settings: GitHubSettings,
    args: argparse.Namespace,
    folder: Path,
) -> None:
    """Issue → task (polling and webhook) and done → PR, the loop in the real scheduler."""
    home = service.settings.home
    sync = GitHubSync(service, settings)
    scheduler = Scheduler(service, InboxDeliverer(home / "inbox"), timers=[sync])
    stop = asyncio.Event()
    running = asyncio.create_task(scheduler.run(stop))
    try:
        await asyncio.sleep(0.5)
        polled = await latency(server, service, args.issues, args.poll, hook=False)
        hooked = await latency(server, service, args.issues, 2.0, hook=True)
        prs = await done_to_pr(server, service, folder, 3)
    finally:
        stop.set()
        await running
    print(f"labelled issue → task, {args.issues} issues, SWARM_GITHUB_POLL={args.poll:g}:")
    print(f"  polling   p50 {statistics.median(polled):6.1f} s   max {max(polled):6.1f} s")
    ratio = statistics.median(polled) / statistics.median(hooked)
    print(
        f"  webhook   p50 {statistics.median(hooked):6.1f} s   max {max(hooked):6.1f} s"
        f"   (polling / webhook p50: {ratio:.0f}x)"
    )
    print(f"task done → PR on GitHub, 3 runs: {', '.join(f'{s:.2f} s' for s in prs)}")


async def count_requests(
    server: LocalGitHub, service: SwarmService, token: str, args: argparse.Namespace, folder: Path
) -> None:
    """Requests per hour on a repository of its own: idle, 50 active tasks, 50 open PRs."""
    from core.github import links

    other = "acme/other"
    server.create_repo(other, files={"README.md": "# other\n"})
    settings = GitHubSettings(repo=other, token=token, api_url=server.api_url, poll_s=args.poll)
    sync = GitHubSync(service, settings)
    await sync.start()
    per_hour = 3600 / args.poll
    slow, base = sync_module.SLOW_S, 0.0
    try:
        for what in ("idle", "50 active tasks", "50 open PRs"):
            if what == "50 active tasks":
                for index in range(50):
                    server.open_issue(
                        other, f"busy {index}", "x", labels=["swarm"], labeled_by="maria"
                    )
            if what == "50 open PRs":
                followed = await service.store.read(links.open_links, other)
                sha, numbers = await _pulls_of(server, sync, other, token, folder, len(followed))
                server.set_check(other, sha, "tests", "success")
                for link, number in zip(followed, numbers, strict=True):
                    # the bench's shortcut: 50 finished tasks, each following its own real PR
                    # (50 branches of one commit), without running 50 agents
                    await service.store.update(_finished, link.id, link.task_id, sha, number)
                sync_module.SLOW_S = 0.0  # baseline: every PR's checks and reviews each poll
                base, base_304 = await requests_per_pass(server, sync, args.idle_passes)
                sync_module.SLOW_S = slow
                print(
                    f"requests per hour (50 open PRs, each read every poll: the baseline): "
                    f"{base * per_hour:7.0f}, of which {base_304 * per_hour:.0f} answered 304; "
                    f"{base:.1f} per pass"
                )
            total, not_modified = await requests_per_pass(server, sync, args.idle_passes)
            print(
                f"requests per hour ({what}): {total * per_hour:7.0f}, of which "
                f"{not_modified * per_hour:.0f} answered 304 (not counted by GitHub's rate "
                f"limit); {total:.1f} per pass"
            )
        hooked = dataclasses.replace(settings, webhook_secret="x")
        print(
            f"with a webhook: {3600 / hooked.poll_every:.0f} safety polls an hour of "
            f"{total:.1f} requests ({3600 / hooked.poll_every * total:.0f} an hour), plus one "
            "pass per delivery; 50 open PRs, baseline / now: "
            f"{base * per_hour / max(total * per_hour, 1):.0f}x"
        )
    finally:
        await sync.stop()


async def _pulls_of(
    server: LocalGitHub, sync: GitHubSync, repo: str, token: str, folder: Path, count: int
) -> tuple[str, list[int]]:
    """``count`` branches of one commit pushed to ``repo`` (one push), a PR each: the head
    and the PRs' numbers."""
    clone = folder / "other"
    await asyncio.to_thread(
        git, folder, "clone", "-q", server.authed_clone_url(repo, token), str(clone)
    )
    await asyncio.to_thread(git, clone, "checkout", "-q", "-b", "feature")
    (clone / "f.py").write_text("X = 1\n")
    await asyncio.to_thread(git, clone, "add", ".")
    await asyncio.to_thread(git, clone, "commit", "-q", "-m", "f")
    refs = [f"HEAD:refs/heads/feature-{i}" for i in range(count)]
    await asyncio.to_thread(git, clone, "push", "-q", "origin", *refs)
    numbers = []
    for i in range(count):
        pull = await sync.client.open_pull(f"feature-{i}", "main", f"f{i}", "body", False)
        numbers.append(int(pull["number"]))
    return server.branch_sha(repo, "feature-0") or "", numbers


def _finished(conn: Conn, link_id: int, task_id: int, sha: str, pr: int) -> None:
    conn.execute("UPDATE tasks SET status = 'done' WHERE id = $1", (task_id,))
    conn.execute(
        "UPDATE github_issues SET pr = $1, head_sha = $2, ci = 'success', shown = 'review' "
        "WHERE id = $3",
        (pr, sha, link_id),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poll", type=float, default=60.0)
    parser.add_argument("--issues", type=int, default=5)
    parser.add_argument("--idle-passes", type=int, default=20)
    parser.add_argument(
        "--requests-only", action="store_true", help="only the requests per hour (part 2)"
    )
    asyncio.run(main(parser.parse_args()))
