"""Fixtures: a local OpenAI-compatible server, model settings pointing at it, the AI service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from localmodel import LocalModel, Step

from core.ai._settings import DEFAULT_PRICES, AISettings, Price
from core.service.ai import AIBook
from core.service.swarm import SwarmService

MODEL = "test-model"
KEY = "sk-test-0123456789abcdefghijklmnop"


class RecordingSleep:
    """An injected ``sleep`` that records the backoff delays and does not wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def server() -> AsyncIterator[LocalModel]:
    """A started local OpenAI-compatible server with an empty script."""
    async with LocalModel() as srv:
        yield srv


def ai_settings(server: LocalModel, **overrides: Any) -> AISettings:
    """Settings on the local server: 1 $/1M prompt and 2 $/1M completion tokens."""
    values: dict[str, Any] = {
        "api_key": KEY,
        "base_url": server.openai_url,
        "model_plan": MODEL,
        "model_summary": MODEL,
        "timeout_s": 5.0,
        "retries": 2,
        "backoff_s": 0.5,
        "backoff_max_s": 4.0,
        "prices": {**DEFAULT_PRICES, MODEL: Price(1.0, 2.0)},
        "secrets": (KEY,),
    }
    return AISettings(**(values | overrides))


@pytest.fixture
def sleep() -> RecordingSleep:
    """The recorded backoff delays."""
    return RecordingSleep()


@pytest.fixture
async def ai(
    service: SwarmService, server: LocalModel, sleep: RecordingSleep
) -> AsyncIterator[AIBook]:
    """The AI service over the test database and the local server."""
    async with AIBook(service, ai_settings(server), sleep) as svc:
        yield svc


def task(
    ref: str, role: str | None = "qa", after: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    """One task of a plan answer."""
    return {
        "ref": ref,
        "title": f"Task {ref}",
        "details": f"Do {ref} and check it.",
        "role": role,
        "priority": "normal",
        "after": list(after),
        **extra,
    }


def plan_reply(
    *tasks: dict[str, Any], summary: str = "Harden the login flow", **kwargs: Any
) -> Step:
    """A chat answer holding a plan."""
    return Step.json({"summary": summary, "tasks": list(tasks)}, **kwargs)


VALID = (
    task("a", "qa", priority="high"),
    task("b", "integration", ("a",)),
    task("c", "web", ("a", "b"), priority="low"),
    task("d", "data"),
)


async def count_rows(service: SwarmService, table: str) -> int:
    """Rows in one table."""
    return await service.store.read(
        lambda c: c.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]
    )
