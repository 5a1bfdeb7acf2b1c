"""A post's ids are its front end's strings, and each front end has its own posts (issue 52,
migration 36): a database of before keeps its Discord posts, as Discord's, their ids in
decimal, and the notifier goes on editing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.posts.queries import Post
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.migrations import migrations
from tests.conftest import BACKENDS
from tests.delivery.old_database import old_database

SNOWFLAKE = 1_234_567_890_123_456_789  # a Discord id: past 2**53, kept whole
_OLD_ROWS = (
    "INSERT INTO posts (key, message_id, thread_id, note, shown, channel_id) VALUES "
    f"('task:1', {SNOWFLAKE}, {SNOWFLAKE + 1}, 'halfway', 'shown', NULL), "
    f"('campaign:2', {SNOWFLAKE + 2}, NULL, NULL, 'x', {SNOWFLAKE + 3})",
    "INSERT INTO event_cursors (consumer, last_id) VALUES ('discord', 7)",
)

# the version before the posts of any front end (later ones may follow it)
_BEFORE = next(
    number
    for number, steps in enumerate(migrations("sqlite"))
    if any("posts_of_front_ends" in step for step in steps)
)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_upgraded_database_keeps_its_discord_posts_with_string_ids(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> None:
    with old_database(backend, request, tmp_path / "home", _BEFORE, _OLD_ROWS) as settings:
        service = await SwarmService.open(settings, clock)
        try:
            await _check_upgraded(service)
        finally:
            await service.close()


async def _check_upgraded(service: SwarmService) -> None:
    card = await service.posts.post("discord", "task:1")
    assert card == Post("task:1", str(SNOWFLAKE), str(SNOWFLAKE + 1), "halfway", "shown")
    live = Post("campaign:2", str(SNOWFLAKE + 2), None, None, "x", str(SNOWFLAKE + 3))
    assert await service.posts.post("discord", "campaign:2") == live
    assert await service.posts.task_of_thread("discord", str(SNOWFLAKE + 1)) == 1
    assert await service.posts.post("recording", "task:1") is None  # Discord's, not another's
    assert await service.posts.cursor("discord") == 7
    # another front end keeps its own post under the same key, ids of its own shape
    theirs = Post("task:1", "1700000000.000100", "C024BE91L")
    await service.posts.save_post(theirs, "slack", 9)
    assert await service.posts.post("slack", "task:1") == theirs
    assert await service.posts.post("discord", "task:1") == card
    assert (await service.posts.cursor("slack"), await service.posts.cursor("discord")) == (9, 7)
