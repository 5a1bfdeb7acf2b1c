"""Fixtures: a started localmodel, a short folder for Unix sockets (their paths are at most
107 bytes), the gateway for one agent per vendor with its records kept."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from localmodel import LocalModel

from tests.gateway.rig import Rig


@pytest.fixture
def sockets() -> Iterator[Path]:
    """A folder under /tmp, short enough for socket paths."""
    folder = Path(tempfile.mkdtemp(prefix="gw-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def model() -> AsyncIterator[LocalModel]:
    """localmodel on a free port (the script: a default answer only)."""
    async with LocalModel(models=("local", "other")) as server:
        yield server


@pytest.fixture
async def rig(model: LocalModel, sockets: Path) -> AsyncIterator[Rig]:
    """The gateway with one agent per vendor, upstream localmodel, each with its real key."""
    async with Rig(model, sockets) as started:
        yield started
