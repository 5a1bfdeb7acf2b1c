"""Webhooks (signed, in order) and ``python -m localgithub``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from ghtest import REPO, Scene, git
from localgithub.__main__ import main

Received = list[tuple[str, str, dict[str, Any]]]


@contextlib.asynccontextmanager
async def receiver(secret: bytes) -> AsyncIterator[tuple[str, Received]]:
    """A webhook receiver on a free port that checks signatures; its URL and what it got."""
    received: Received = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        assert request.headers["X-Hub-Signature-256"] == expected
        event, guid = request.headers["X-GitHub-Event"], request.headers["X-GitHub-Delivery"]
        received.append((event, guid, json.loads(body)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", received
    finally:
        await runner.cleanup()


async def test_webhooks_are_signed_and_in_order(scene: Scene) -> None:
    async with receiver(b"s3cret") as (url, received):
        scene.gh.add_webhook(url, "s3cret")
        issue = scene.gh.open_issue(REPO, "Hooked", labels=["swarm"], labeled_by="alice")
        await scene.alice.post(f"/repos/{REPO}/issues/{issue.number}/comments", {"body": "hi"})
        sha = scene.gh.branch_sha(REPO, "main")
        assert sha
        scene.gh.set_check(REPO, sha, "tests", "failure", "boom")
        await scene.gh.webhooks.drain()
    kinds = [(event, payload["action"]) for event, _, payload in received]
    assert kinds == [
        ("issues", "opened"),
        ("issues", "labeled"),
        ("issue_comment", "created"),
        ("check_run", "completed"),
    ]
    labeled = received[1][2]
    assert labeled["label"]["name"] == "swarm" and labeled["sender"]["login"] == "alice"
    assert labeled["issue"]["number"] == issue.number
    assert labeled["repository"]["full_name"] == REPO
    assert received[3][2]["check_run"]["output"]["text"] == "boom"
    assert len({guid for _, guid, _ in received}) == 4
    assert [d.status for d in scene.gh.webhooks.deliveries] == [204] * 4


async def test_a_push_to_a_pull_requests_branch_is_a_synchronize(
    scene: Scene, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    url = scene.gh.authed_clone_url(REPO, scene.tokens["alice"])
    await git(tmp_path, "clone", "-q", url, str(work))
    await git(work, "checkout", "-q", "-b", "feature")
    (work / "app.py").write_text("print(1)\n")
    await git(work, "commit", "-q", "-am", "one")
    await git(work, "push", "-q", "origin", "feature")
    made = await scene.alice.post(
        f"/repos/{REPO}/pulls", {"title": "F", "head": "feature", "base": "main"}
    )
    async with receiver(b"k") as (hook, received):
        scene.gh.add_webhook(hook, "k")
        (work / "app.py").write_text("print(2)\n")
        await git(work, "commit", "-q", "-am", "two")
        await git(work, "push", "-q", "origin", "feature")
        await scene.gh.webhooks.drain()
    head = (await git(work, "rev-parse", "HEAD")).stdout.strip()
    assert [event for event, _, _ in received] == ["push", "pull_request"]
    push, sync = received[0][2], received[1][2]
    assert (push["ref"], push["after"], push["sender"]["login"]) == (
        "refs/heads/feature",
        head,
        "alice",
    )
    assert push["before"] == made.body["head"]["sha"]
    assert sync["action"] == "synchronize" and sync["pull_request"]["head"]["sha"] == head


async def test_module_runs_a_server(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "localgithub",
        "--root",
        str(tmp_path),
        "--repo",
        "acme/app",
        "--user",
        "alice:write",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        banner = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        api = banner.split()[2]
        token = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().split()[-1]
        headers = {"Authorization": f"token {token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{api}/repos/acme/app", headers=headers) as response,
        ):
            assert response.status == 200
            assert (await response.json())["permissions"]["push"] is True
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
    assert (tmp_path / "repos" / "acme" / "app.git" / "HEAD").exists()


@pytest.mark.parametrize("args", [["--user", "bob:god"], ["--repo", "noslash"]])
def test_module_refuses_bad_arguments_in_one_line(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("localgithub: error: argument")


async def test_module_never_overwrites_a_repository(tmp_path: Path) -> None:
    (tmp_path / "repos" / "acme" / "app.git").mkdir(parents=True)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "localgithub",
        "--root",
        str(tmp_path),
        "--repo",
        "acme/app",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert err.decode().strip().splitlines()[-1].endswith("app.git already exists")
    assert "Traceback" not in err.decode()
    assert list((tmp_path / "repos" / "acme" / "app.git").iterdir()) == []
