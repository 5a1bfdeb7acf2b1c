"""A swarm service for the gateway watch's tests: its home the gateway's short socket folder,
its agents file the test's."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings


@contextlib.asynccontextmanager
async def agents_service(
    home: Path, agents: str, database_url: str | None, clock: ManualClock
) -> AsyncIterator[SwarmService]:
    """A service on ``home`` (short enough for the gateway's sockets) whose agents file is
    ``agents`` (``{ws}``: a workspace folder made in ``home``)."""
    (home / "ws").mkdir()
    config = home / "agents.toml"
    config.write_text(agents.format(ws=home / "ws"))
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config),
                                  "SWARM_DATABASE_URL": database_url or ""})  # fmt: skip
    service = await SwarmService.open(settings, clock)
    try:
        yield service
    finally:
        await service.close()
