"""The notifier's loop in core, driven through a front end of the tests' own (no Discord):
one card per task edited through its life with a thread of notes, one line per message,
posts gone posted anew, posts refused for good skipped and alerted, failures for now tried
again, and every front end's loops in ``swarm status``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from core.agents._alerts import list_alerts
from core.coordinator.front_end import AlertPost, Failure, Lines, MessageLine, TaskCard, ThreadLine
from core.coordinator.notifier import Notifier
from core.history.events import EventFilter
from core.models import Receipt, TaskSpec, TaskStatus
from core.posts.health import notifier_health
from core.posts.notify import NotifyLevel
from core.service.swarm import SwarmService
from core.tasks import _held as held
from tests.posts.recording import RecordingFrontEnd

T = TypeVar("T")


@asynccontextmanager
async def running(
    service: SwarmService, front: RecordingFrontEnd, level: NotifyLevel = NotifyLevel.normal
) -> AsyncIterator[Notifier]:
    """The notifier posting to ``front`` while the block runs."""
    notifier = Notifier(service, front, level, poll_s=0.05)
    task = asyncio.create_task(notifier.run())
    try:
        yield notifier
    finally:
        notifier.stop()
        await asyncio.wait_for(task, 10)


async def until(probe: Callable[[], T | None], what: str) -> T:
    """Poll ``probe`` until it is truthy (the loop posts from a task of this process)."""
    async with asyncio.timeout(10):
        while not (found := probe()):  # noqa: ASYNC110 - the loop's progress is its posts
            await asyncio.sleep(0.02)
    assert found, what
    return found


async def caught_up(service: SwarmService, front: RecordingFrontEnd) -> None:
    """Until the front end's loop has handled every event (its cursor is in the database)."""
    async with asyncio.timeout(10):
        last = (await service.history.last(1))[-1].id
        while await service.posts.cursor(front.name) < last:  # its cursor is in the database
            await asyncio.sleep(0.02)
            last = (await service.history.last(1))[-1].id


def card_status(front: RecordingFrontEnd, task_id: int) -> TaskStatus | None:
    """What the (only) card of ``task_id`` shows now."""
    (card,) = front.cards(task_id)
    assert isinstance(card.item, TaskCard)
    return card.item.task.status


async def test_a_task_is_one_card_edited_through_its_life_with_a_thread(
    service: SwarmService,
) -> None:
    front = RecordingFrontEnd()
    async with running(service, front):
        await service.tasks.create(TaskSpec("ship it"), "cli")
        await until(lambda: front.cards(1), "T-1's card")
        await service.queue.assign_next()
        await service.tasks.start("T-1", "Agent-1", "halfway there")
        await service.tasks.complete("T-1", "Agent-1", "shipped")
        await until(lambda: card_status(front, 1) is TaskStatus.done, "T-1 done")
        await caught_up(service, front)
    (card,) = front.cards(1)
    assert [p for p in front.top()] == [card]  # one post in the channel: the card
    notes = [p.item for p in front.thread(1)]
    assert all(isinstance(n, ThreadLine) for n in notes)
    lines = [n.event.text for n in notes if isinstance(n, ThreadLine)]
    assert lines == ["T-1 started by Agent-1: halfway there", "T-1 done by Agent-1: shipped"]
    post = await service.posts.post("recording", "task:1")
    assert post is not None and post.message_id == card.id and post.thread_id == card.id


async def test_a_message_is_one_line_counting_its_deliveries(service: SwarmService) -> None:
    front = RecordingFrontEnd()
    async with running(service, front):
        message_id = await service.messages.broadcast("stand-up in 5", "cli")
        for n in range(8):
            delivery = await service.queue.claim_delivery()
            assert delivery is not None and delivery.message_id == message_id
            failed = Receipt.failed("window gone", "gui", retryable=False)
            await service.queue.record_receipt(
                delivery, Receipt.delivered("inbox") if n else failed
            )

        def counted() -> bool:
            item = front.top()[0].item if front.top() else None
            return isinstance(item, MessageLine) and item.progress.delivered == 7

        await until(counted, "delivered 7/8")
    (line,) = front.top()
    assert isinstance(line.item, MessageLine) and line.item.progress.failed == 1
    assert line.item.headline == "cli → all: stand-up in 5"


async def test_a_card_gone_is_posted_anew_and_recorded(service: SwarmService) -> None:
    front = RecordingFrontEnd()
    async with running(service, front):
        await service.tasks.create(TaskSpec("ship it"), "cli")
        (first,) = await until(lambda: front.cards(1), "T-1's card")
        front.posts.remove(first)  # deleted by a moderator: its edit is refused as gone
        await service.queue.assign_next()
        (anew,) = await until(lambda: front.cards(1), "T-1's card anew")
    assert anew.id != first.id and card_status(front, 1) is TaskStatus.assigned
    (reposted,) = await service.history.find(EventFilter(kinds=("post.reposted",)))
    assert reposted.text.startswith("Recording: T-1's card was gone: Refused: refused: gone")
    assert reposted.data is not None and reposted.data["loop"] == "recording"


async def test_a_post_refused_for_good_is_skipped_alerted_then_cleared(
    service: SwarmService,
) -> None:
    front = RecordingFrontEnd(refuse=[Failure.refused])
    async with running(service, front):
        await service.tasks.create(TaskSpec("refused once"), "cli")  # task.created, task.ready
        await until(lambda: front.cards(1), "T-1's card, from its next event")
        await caught_up(service, front)
    (failed,) = await service.history.find(EventFilter(kinds=("post.failed",)))
    assert failed.text.startswith("Recording refused the post of event 1 (task.created, T-1)")
    (alert,) = await service.store.read(list_alerts, True)
    assert (alert.agent, alert.kind) == ("recording", "post_failed")
    assert alert.cleared_text == "Recording takes the posts again"  # the card got through
    alerts = [p.item for p in front.top() if isinstance(p.item, AlertPost)]
    assert [a.event.kind for a in alerts] == ["alert.opened", "alert.cleared"]  # urgent loop
    loop, _urgent = await notifier_health(service.posts)
    assert (loop.consumer, loop.skipped, loop.retried) == ("recording", 1, 0)


async def test_a_failure_for_now_is_tried_again_and_counted(service: SwarmService) -> None:
    front = RecordingFrontEnd(refuse=[Failure.transient])
    async with running(service, front):
        await service.tasks.create(TaskSpec("later"), "cli")
        await until(lambda: front.cards(1), "T-1's card, once tried again")
    loops = {loop.consumer: loop for loop in await notifier_health(service.posts)}
    assert set(loops) == {"recording", "recording:urgent"}
    assert (loops["recording"].retried, loops["recording"].skipped) == (1, 0)
    assert loops["recording"].last_error == "Refused: refused: transient"
    assert await service.store.read(list_alerts) == []  # a failure for now opens no alert


async def test_lines_in_a_row_are_one_post(service: SwarmService) -> None:
    front = RecordingFrontEnd()
    text = "review by outsider on PR #3"
    await service.store.write("github", held.hold, "github", "review", "gh:r:1", text, {})
    await service.store.write("github", held.hold, "github", "review", "gh:r:2", text, {})
    await service.tasks.create(TaskSpec("fine"), "cli")
    async with running(service, front):
        await caught_up(service, front)
    kinds = [type(p.item) for p in front.top()]
    assert kinds == [Lines, TaskCard], kinds  # the held items in one post, then T-1's card
    lines = front.top()[0].item
    assert isinstance(lines, Lines) and [e.text[:3] for e in lines.events] == ["H-1", "H-2"]


async def test_quiet_posts_failures_only(service: SwarmService) -> None:
    front = RecordingFrontEnd()
    await service.tasks.create(TaskSpec("fine"), "cli")
    await service.tasks.create(TaskSpec("doomed"), "cli")
    await service.messages.broadcast("hello", "cli")
    await service.queue.assign_batch()
    await service.tasks.complete("T-1", "Agent-1")
    await service.tasks.fail("T-2", "Agent-2", "broken")
    async with running(service, front, NotifyLevel.quiet):
        await caught_up(service, front)
    assert [type(p.item) for p in front.top()] == [TaskCard]
    assert card_status(front, 2) is TaskStatus.failed and front.cards(1) == []


def test_the_loops_records_of_before_are_renamed_by_migration_37(tmp_path: Path) -> None:
    """A database of before (schema 36) keeps its notifier records under their new kinds."""
    import sqlite3

    from core.store import sqlite as lite

    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    assert lite.migrate(conn, 36) == 36
    for kind in ("discord.reposted", "discord.post_failed", "task.done"):
        conn.execute("INSERT INTO events (ts, kind) VALUES (1, ?)", (kind,))
    lite.migrate(conn)
    kinds = [r[0] for r in conn.execute("SELECT kind FROM events ORDER BY id")]
    conn.close()
    assert kinds == ["post.reposted", "post.failed", "task.done"]
