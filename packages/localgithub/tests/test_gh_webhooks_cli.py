"""Webhooks (signed, in order) and ``python -m localgithub``."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from ghtest import REPO, Scene


async def test_webhooks_are_signed_and_in_order(scene: Scene) -> None:
    received: list[tuple[str, str, dict[str, Any]]] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert request.headers["X-Hub-Signature-256"] == expected
        received.append(
            (
                request.headers["X-GitHub-Event"],
                request.headers["X-GitHub-Delivery"],
                json.loads(body),
            )
        )
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        scene.gh.add_webhook(f"http://127.0.0.1:{port}/hook", "s3cret")
        issue = scene.gh.open_issue(REPO, "Hooked", labels=["swarm"], labeled_by="alice")
        await scene.alice.post(f"/repos/{REPO}/issues/{issue.number}/comments", {"body": "hi"})
        sha = scene.gh.branch_sha(REPO, "main")
        assert sha
        scene.gh.set_check(REPO, sha, "tests", "failure", "boom")
        await scene.gh.webhooks.drain()
    finally:
        await runner.cleanup()
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


async def test_module_refuses_bad_arguments_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "repos" / "acme" / "app.git").mkdir(parents=True)
    for args, code in (
        (["--user", "bob:god"], 2),
        (["--repo", "noslash"], 2),
        (["--root", str(tmp_path), "--repo", "acme/app"], 1),  # would overwrite a repository
    ):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "localgithub",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == code
        last = err.decode().strip().splitlines()[-1]
        assert last.startswith("localgithub: ") and "Traceback" not in err.decode()
