"""``swarm doctor`` and the CLI's errors on PostgreSQL name the database without the URL's
password; the doctor and ``swarm status`` find the scheduler lock's holder through the
database (``core.coordinator.db_lock``)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from core.coordinator import db_lock
from core.privacy.redact import redact_urls
from core.service.swarm import SwarmService
from tests.conftest import PgServer
from tests.helpers import run_cli

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
PASSWORD = "s3cret-pw"


async def test_doctor_names_the_database_without_its_password(
    service: SwarmService, database_url: str
) -> None:
    url = database_url.replace("@", f":{PASSWORD}@", 1)  # trust: any password is accepted
    shown = redact_urls(url)
    assert PASSWORD not in shown and shown != url
    env = {"SWARM_DATABASE_URL": url}
    home = service.settings.home
    idle = await asyncio.to_thread(run_cli, home, "doctor", "--timeout", "1", env=env)
    assert await db_lock.running(service) is None
    async with db_lock.hold(url, 5.0):  # what `swarm run` holds on PostgreSQL
        held = await asyncio.to_thread(run_cli, home, "doctor", "--timeout", "1", env=env)
        status = await asyncio.to_thread(run_cli, home, "status", "--json", env=env)
        running = await db_lock.running(service)
    assert running is not None and running[0] == os.getpid()
    assert json.loads(status.out)["coordinator"]["pid"] == os.getpid()
    missing = await asyncio.to_thread(run_cli, home, "task", "show", "T-99", env=env)
    for result in (idle, held, missing):
        assert PASSWORD not in result.out + result.err
    assert f"ok       database     {shown} (reachable, schema v" in idle.out
    assert "PROBLEM  coordinator  no 'swarm run' holds the scheduler lock" in idle.out
    assert "ok       coordinator  scheduler pid " in held.out
    assert missing.code == 2 and missing.err == f"swarm: error: unknown task T-99 (in {shown})\n"


async def test_doctor_on_a_database_swarm_has_not_used_yet(
    pg_server: PgServer, database_url: str, tmp_path: Path
) -> None:
    import psycopg

    url = pg_server.cluster.url()
    empty = "swarm_never_used"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {empty}")
    try:
        home = tmp_path / "home"
        result = await asyncio.to_thread(
            run_cli,
            home,
            "doctor",
            "--timeout",
            "1",
            env={"SWARM_DATABASE_URL": pg_server.cluster.url(empty)},
        )
        assert "Traceback" not in result.err, result.err
        assert "(reachable, empty: created on first use)" in result.out
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {empty} WITH (FORCE)")
