"""``swarm github status|import`` and doctor's GitHub line, against a local GitHub."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.cli.doctor import _github
from bot.config import Config
from core.service.swarm import SwarmService
from tests.github.conftest import REPO, World
from tests.helpers import CliResult, run_cli


def _env(world: World, token: str) -> dict[str, str]:
    return {
        "SWARM_GITHUB_REPO": REPO,
        "GITHUB_TOKEN": token,
        "SWARM_GITHUB_API_URL": world.gh.api_url,
        "SWARM_GITHUB_GIT_URL": world.gh.url,
    }


async def _cli(home: Path, env: dict[str, str], *args: str) -> CliResult:
    return await asyncio.to_thread(run_cli, home, *args, env=env)  # the server is on this loop


async def test_status_says_who_what_access_and_the_rate_limit(
    world: World, service: SwarmService
) -> None:
    home = service.settings.home
    classic = world.gh.add_user("classic-bot", "write", classic=True)
    ok = await _cli(home, _env(world, classic), "github", "status")
    assert ok.code == 0, ok.err
    assert ok.out.startswith(f"GitHub: ok: {REPO} as classic-bot: write access, scopes ")
    assert "rate limit" in ok.out and classic not in ok.out
    bad = await _cli(home, _env(world, "ghp_" + "x" * 36), "github", "status", "--json")
    shown = json.loads(bad.out)
    assert bad.code == 1 and shown["state"] == "problem"
    assert "401 bad credentials" in shown["detail"] and "ghp_" not in bad.out + bad.err
    reader = world.gh.add_user("reader", "read")
    low = await _cli(home, _env(world, reader), "github", "status")
    assert low.code == 1 and "needs write access" in low.out and reader not in low.out


async def test_import_now_prints_each_issue(world: World, service: SwarmService) -> None:
    world.gh.open_issue(REPO, "From the CLI", "x", labels=["swarm"], labeled_by=world.maintainer)
    world.gh.open_issue(REPO, "Outsider", "x", labels=["swarm"], user=world.outsider)
    result = await _cli(service.settings.home, _env(world, world.token), "github", "import")
    assert result.code == 0, result.err
    assert "issue #1 → T-1" in result.out
    assert "issue #2 not imported: label 'swarm' applied by otto (read)" in result.out
    assert world.token not in result.out + result.err
    world.gh.open_issue(REPO, "Third", "x", labels=["swarm"], labeled_by=world.maintainer)
    shown = await _cli(
        service.settings.home, _env(world, world.token), "github", "import", "--json"
    )
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["imported"] == {"3": "T-2"}


async def test_doctor_reports_the_connection(world: World) -> None:
    (finding,) = await _github(Config(_env(world, world.token)), 5)
    assert finding.status == "ok" and "swarm-bot: write access, fine-grained" in finding.detail
    (off,) = await _github(Config({}), 5)
    assert off.status == "skipped"


async def test_swarm_run_adds_the_loop_only_when_a_repository_is_set(
    world: World, service: SwarmService
) -> None:
    from bot.app import Builder
    from core.github_loop.sync import GitHubSync

    assert Builder(Config({}, core=service.settings)).github(service) is None
    on = Builder(Config(_env(world, world.token), core=service.settings))
    loop = on.github(service)
    assert isinstance(loop, GitHubSync) and on.github_sync is loop
    assert loop.settings.repo == REPO and loop.settings.poll_s == 60
