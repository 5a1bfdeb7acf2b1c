"""Fixtures of the MCP tests: the service on the system clock (a ``swarm mcp`` child and the
dashboard read the real time), tasks given to agents, the SDK's client over stdio."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent

from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import ROOT, cli_env


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[SwarmService]:
    """The service over the test's home, on the system clock."""
    service = await SwarmService.open(settings)
    yield service
    await service.close()


async def given(
    service: SwarmService, agent: str, title: str, details: str = "", after: tuple[str, ...] = ()
) -> str:
    """A task pinned to ``agent`` and assigned to it (as the scheduler does); its ref."""
    spec = TaskSpec(title, details, agent=agent, after=after)
    task = await service.tasks.create(spec, "cli")
    await service.queue.assign_batch()
    return task.ref


@contextlib.asynccontextmanager
async def stdio_session(home: Path, **env: str) -> AsyncIterator[ClientSession]:
    """The SDK's client on ``swarm mcp`` spawned with SWARM_HOME=home and ``env``."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "bot.cli.main", "mcp"],
        env=cli_env(home, env=env),
        cwd=str(ROOT),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def text(result: CallToolResult) -> str:
    """The text of a tool's result (one text block)."""
    (block,) = result.content
    assert isinstance(block, TextContent)
    return block.text


def error(result: CallToolResult) -> str:
    """The text of a failed call: one line."""
    assert result.is_error, text(result)
    said = text(result)
    assert "\n" not in said and said.strip() == said
    return said
