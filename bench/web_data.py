"""Data for bench/web.py: eight inbox agents, 10,000 tasks in a lived-in mix of states, and a
small realistic board for the screenshot in docs/."""

from __future__ import annotations

import random
from pathlib import Path

from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.store.conn import Conn

ROLES = (
    "integration",
    "architecture",
    "infrastructure",
    "qa",
    "data",
    "coordination",
    "web",
    "operations",
)
# share of 10,000 tasks per final status (the rest stay ready): a swarm some weeks old
MIX = (("done", 0.80), ("failed", 0.04), ("cancelled", 0.02), ("blocked", 0.05))
WORDS = (
    "parser",
    "login",
    "cache",
    "schema",
    "retry",
    "export",
    "metrics",
    "docs",
    "CI",
    "migration",
    "search",
    "upload",
)


def write_agents(path: Path) -> Path:
    """Eight inbox agents, one per role."""
    path.write_text(
        "\n".join(
            f'[[agent]]\nid = "Agent-{i + 1}"\nrole = "{role}"\ndelivery = "inbox"\n'
            for i, role in enumerate(ROLES)
        )
    )
    return path


async def many_tasks(service: SwarmService, count: int, seed: int = 7) -> None:
    """``count`` tasks through the service (batches of 500), then most of them moved to a
    final state in one UPDATE per state (the lifecycle itself is not what is measured)."""
    rng = random.Random(seed)
    for start in range(0, count, 500):
        specs = [
            TaskSpec(
                title=f"{rng.choice(WORDS)} task {n}",
                role=rng.choice(ROLES),
                priority=rng.choice(("low", "normal", "normal", "high", "urgent")),
            )
            for n in range(start, min(count, start + 500))
        ]
        await service.tasks.create_many(specs, "bench")
    await service.store.update(_finish_most, count, rng.random())


def _finish_most(conn: Conn, count: int, salt: float) -> None:
    first = 1
    for status, share in MIX:
        last = first + int(count * share)
        conn.execute(
            "UPDATE tasks SET status = $1, assignee = 'Agent-' || (1 + id % 8), "
            "finished_at = updated_at WHERE id >= $2 AND id < $3",
            (status, first, last),
        )
        first = last


DEMO = (
    ("Design the plugin API", "high", "architecture", ()),
    ("Write the OpenAPI client", "normal", "integration", (0,)),
    ("Dockerfile for the worker", "normal", "infrastructure", ()),
    ("CI: run the browser tests", "high", "infrastructure", (2,)),
    ("Regression tests for exports", "normal", "qa", ()),
    ("Import the 2019 archive", "low", "data", ()),
    ("Weekly status for the team", "normal", "coordination", ()),
    ("Board filters keep the URL", "normal", "web", ()),
    ("Rotate the staging keys", "urgent", "operations", ()),
    ("Retry flaky uploads", "high", "integration", ()),
    ("Schema migration 12", "normal", "data", (5,)),
    ("Load test the search", "normal", "qa", (9,)),
    ("Dark mode for charts", "low", "web", (7,)),
    ("Alert on stalled agents", "high", "operations", ()),
    ("Split the settings module", "normal", "architecture", (0,)),
    ("Cache the token lookups", "normal", "integration", ()),
    ("Docs: dashboard page", "low", "coordination", (7,)),
    ("Backups every hour", "urgent", "infrastructure", ()),
)


async def demo_board(service: SwarmService) -> None:
    """A small board with work in every column, made through the service."""
    specs = [
        TaskSpec(
            title=title, priority=prio, role=role, ref=str(i), after=tuple(str(d) for d in deps)
        )
        for i, (title, prio, role, deps) in enumerate(DEMO)
    ]
    await service.tasks.create_many(specs, "boss")
    assigned = await service.queue.assign_batch()
    for step, made in enumerate(assigned):
        ref = f"T-{made.task_id}"
        if step % 4 == 0:
            await service.tasks.complete(ref, made.agent, "merged")
        elif step % 4 == 1:
            await service.tasks.start(ref, made.agent, "on it")
        elif step % 4 == 2 and step > 4:
            await service.tasks.fail(ref, made.agent, "tests fail on CI")
    await service.queue.assign_batch()
