"""Fixtures: a real SQLite file under tmp_path, a manual clock, the service."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

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


DESKTOP_TOOLS = ("Xvfb", "xsel", "xdotool")


def skip_or_fail(reason: str) -> None:
    """Skip a desktop test, or fail it when ``SWARM_REQUIRE_XVFB=1`` (CI runs them all)."""
    if os.environ.get("SWARM_REQUIRE_XVFB") == "1":
        pytest.fail(f"{reason} (SWARM_REQUIRE_XVFB=1 makes this a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_xvfb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The one 1920x1080 Xvfb of the test session, shared by every desktop test.

    PyAutoGUI binds to the display it is first imported with, so all desktop tests of one
    session must use the same X server.
    """
    missing = [tool for tool in DESKTOP_TOOLS if shutil.which(tool) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed (apt-get install xvfb xsel xdotool)")
    from automation import virtual_desktop

    server = virtual_desktop.start_xvfb(tmp_path_factory.mktemp("xvfb"))
    try:
        yield server
    finally:
        server.stop()
