"""Fixtures: a real SQLite file under tmp_path, a manual clock, the service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.protocols import ManualClock
from core.service import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh SWARM_HOME."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def settings(home: Path) -> Settings:
    """Settings on the bundled agents file with short leases and backoff."""
    return Settings.from_env({
        "SWARM_HOME": str(home), "SWARM_LEASE": "60", "SWARM_RETRY_BACKOFF": "5",
        "SWARM_MAX_ATTEMPTS": "3",
    })


@pytest.fixture
def clock() -> ManualClock:
    """Time that moves only when the test says so."""
    return ManualClock()


@pytest.fixture
async def service(settings: Settings, clock: ManualClock) -> AsyncIterator[SwarmService]:
    """The service over a real database file."""
    svc = await SwarmService.open(settings, clock)
    yield svc
    await svc.close()


@pytest.fixture
def deliverer() -> RecordingDeliverer:
    """A deliverer that records what it was given."""
    return RecordingDeliverer()
