"""Fixtures of the PostgreSQL tests: the agents of a small fleet of delivery nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from tests.helpers import write_agents


@pytest.fixture
def node_settings(tmp_path: Path, database_url: str) -> Settings:
    """Agents A-1, A-2 on desk-1, B-1 on desk-2, C-1 on the coordinator."""
    config = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "A-1", "role": "w", "delivery": "inbox", "node": "desk-1"},
            {"id": "A-2", "role": "w", "delivery": "inbox", "node": "desk-1"},
            {"id": "B-1", "role": "w", "delivery": "inbox", "node": "desk-2"},
            {"id": "C-1", "role": "w", "delivery": "inbox"},
        ],
    )
    return Settings.from_env(
        {
            "SWARM_HOME": str(tmp_path / "home"),
            "SWARM_CONFIG": str(config),
            "SWARM_DATABASE_URL": database_url,
        }
    )
