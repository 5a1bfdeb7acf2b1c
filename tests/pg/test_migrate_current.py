"""A process opening a PostgreSQL store that is already current reads so in one statement,
without the migration's lock (the MCP servers of a fleet's agents, each opening the store at
its first tool call, had waited in line for it); a database missing something the
migration makes beside its versions still gets it."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from core.store.postgres.store import MIGRATE_LOCK, PgDatabase

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.timeout(60),
]


async def _opened(url: str) -> None:
    db = await PgDatabase.open(url, readers=0)
    await db.close()


async def test_a_current_database_opens_while_the_migration_lock_is_held(
    database_url: str,
) -> None:
    await _opened(database_url)  # current now
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
        await asyncio.wait_for(_opened(database_url), 10)


async def test_a_database_without_its_prompt_wake_gets_it_back(database_url: str) -> None:
    await _opened(database_url)
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("DROP TRIGGER agent_prompts_settled ON agent_prompts")
    await _opened(database_url)
    with psycopg.connect(database_url, autocommit=True) as admin:
        found = admin.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'agent_prompts_settled'"
        ).fetchone()
    assert found == (1,)
