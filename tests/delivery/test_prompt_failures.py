"""A delivery whose prompt cannot be built fails at once, with its reason recorded and shown
(issue 23, item 7): a role template that is not UTF-8, a deleted worktree, no file
descriptor left. Before, ``prompt.plan`` ran outside the deliverer's ``try``: the delivery
stayed ``delivering`` until the task's lease ended, and the reason was lost."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.workspaces._manager import InitRequest, init
from tests.helpers import RecordingDeliverer, headless_run, query, recording_builder, run_cli
from tests.workspaces.conftest import GIT_ENV, commit_file, sh

pytestmark = pytest.mark.both_databases

WAIT_S = 60.0  # generous; far below the 300 s lease the old code waited for


@pytest.fixture
def slow_lease(home: Path) -> Settings:
    """The default lease (300 s): a stuck delivery cannot end by the lease within the test."""
    return Settings.from_env({"SWARM_HOME": str(home), "SWARM_LEASE": "300"})


def task_delivery(settings: Settings, task_id: int) -> tuple[str, str | None]:
    """State and reason of the task's first prompt."""
    ((state, reason),) = query(
        settings,
        "SELECT d.state, d.reason FROM deliveries d JOIN messages m "
        "ON m.id = d.message_id WHERE m.task_id = $1 ORDER BY d.id LIMIT 1",
        (task_id,),
    )
    return str(state), reason


async def run_until_failed(settings: Settings, task_id: int) -> str:
    """Run the coordinator in-process until the task's prompt is ``failed``; its reason."""
    async with headless_run(recording_builder(settings)) as runner:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while loop.time() < deadline and not runner.done():
            rows = query(
                settings,
                "SELECT d.state, d.reason FROM deliveries d JOIN messages m "
                "ON m.id = d.message_id WHERE m.task_id = $1",
                (task_id,),
            )
            if rows and rows[0][0] == "failed":
                return str(rows[0][1])
            await asyncio.sleep(0.05)
    raise AssertionError(f"delivery still {task_delivery(settings, task_id)} after {WAIT_S} s")


async def pinned_task(settings: Settings) -> int:
    """T-1, pinned to Agent-1 (the task the issue saw fail with "no report from Agent-1")."""
    service = await SwarmService.open(settings)
    try:
        return (await service.tasks.create(TaskSpec("pinned", agent="Agent-1"), "cli")).id
    finally:
        await service.close()


async def assert_shown(settings: Settings, task_id: int, reason: str) -> None:
    """The reason is in the delivery.failed event and in ``swarm task show``; the task went
    the failed-delivery way (released for another try), not the lease's."""
    events = query(
        settings, "SELECT kind, text FROM events WHERE task_id = $1 ORDER BY id", (task_id,)
    )
    failed = [text for kind, text in events if kind == "delivery.failed"]
    assert len(failed) == 1 and failed[0].endswith(f"failed after 1 attempt(s): {reason}")
    ((status, why),) = query(settings, "SELECT status, reason FROM tasks WHERE id = $1", (task_id,))
    assert status == "ready" and why == f"could not deliver to Agent-1: {reason}"
    shown = await asyncio.to_thread(run_cli, settings.home, "task", "show", f"T-{task_id}")
    assert shown.code == 0 and reason in shown.out, shown
    assert "no report from" not in shown.out


async def test_a_role_template_that_is_not_utf8_fails_the_delivery_at_once(
    slow_lease: Settings,
) -> None:
    template = slow_lease.home / "roles" / "integration.md"
    template.parent.mkdir()
    template.write_bytes(b"# R\xf4le\n")  # Latin-1
    task_id = await pinned_task(slow_lease)
    reason = await run_until_failed(slow_lease, task_id)
    assert reason == f"prompt not built: role template {template} is not UTF-8 text (byte 3)"
    await assert_shown(slow_lease, task_id, reason)


async def test_a_deleted_worktree_fails_the_delivery_at_once(
    slow_lease: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    repo = tmp_path / "project"
    repo.mkdir()
    sh(repo, "init", "-q", "-b", "main")
    commit_file(repo, "README.md", "# project\n", "first")
    service = await SwarmService.open(slow_lease)
    try:
        init(slow_lease.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    finally:
        await service.close()
    tree = slow_lease.home / "workspaces" / "project" / "Agent-1"
    shutil.rmtree(tree)
    task_id = await pinned_task(slow_lease)
    reason = await run_until_failed(slow_lease, task_id)
    assert reason == (
        f"prompt not built: {tree} does not exist (deleted?): git cannot run in "
        "it; swarm workspaces repair prunes a worktree whose folder is gone"
    )
    await assert_shown(slow_lease, task_id, reason)


@contextlib.contextmanager
def no_file_descriptor_left() -> Iterator[None]:
    """Every file descriptor this process may open is taken, until the block ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    held: list[int] = []
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 1024), hard))
    try:
        with contextlib.suppress(OSError):
            while True:
                held.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_no_file_descriptor_left_fails_the_delivery_at_once(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    """The role template cannot be opened (EMFILE): failed with the reason, not stuck."""
    task = await service.tasks.create(TaskSpec("pinned", agent="Agent-1"), "cli")
    scheduler = Scheduler(service, deliverer)
    await service.queue.recover()
    await scheduler.schedule_once()
    with no_file_descriptor_left():
        attempted = await scheduler.deliver_once()
    assert attempted == 1 and deliverer.parcels == []
    state, reason = task_delivery(service.settings, task.id)
    assert state == "failed" and (reason or "").startswith(
        "prompt not built: Too many open files"
    ), reason
