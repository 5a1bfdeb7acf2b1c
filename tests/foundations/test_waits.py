"""core.waits: a stop that comes as the awaited event is set is never lost."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from core import waits
from core.waits import Background, ErrorBackoff, cancel_all, first_of, wait_set, within


async def test_a_cancellation_as_the_event_is_set_is_not_swallowed() -> None:
    event = asyncio.Event()
    waiting = asyncio.create_task(wait_set(event, 10))
    await asyncio.sleep(0.01)
    event.set()  # the inner wait is done ...
    waiting.cancel()  # ... and the stop comes before the waiter resumes (wait_for loses it)
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_cancellation_as_the_awaited_future_ends_is_not_swallowed() -> None:
    """``within``: the bounded wait of the product (``asyncio.wait_for`` returned 1 here)."""
    answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiting = asyncio.create_task(within(answer, 10))
    await asyncio.sleep(0.01)
    answer.set_result(1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_within_gives_the_result_or_times_out() -> None:
    assert await within(asyncio.sleep(0, "done"), 5) == "done"
    with pytest.raises(TimeoutError):
        await within(asyncio.sleep(5), 0.01)


async def test_it_says_whether_the_event_was_set() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.01) is False
    event.set()
    assert await wait_set(event, 10) is True


def test_every_retry_waits_the_one_doubling_way() -> None:
    """Issue 42, item 5: one backoff (``core.waits``), used by every retry loop."""
    waits = ErrorBackoff(0.5, 4.0)
    assert [waits.delay(n) for n in range(0, 6)] == [0.5, 0.5, 1.0, 2.0, 4.0, 4.0]
    assert ErrorBackoff(1.0, 60.0).delay(10**9) == 60.0  # a long streak never overflows
    backoff = ErrorBackoff(1.0, 8.0)
    assert [backoff.failed() for _ in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    backoff.succeeded()
    assert backoff.failed() == 1.0


async def test_background_logs_a_failure_as_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise RuntimeError("the notifier broke")

    tasks = Background("front end")
    task = tasks.start(fails(), name="notifier")
    await asyncio.wait({task})
    await asyncio.sleep(0)  # its done-callback
    assert len(tasks) == 0  # not kept once ended
    (record,) = [r for r in caplog.records if r.name == "core.waits"]
    assert record.getMessage() == "front end: notifier failed"
    assert record.exc_info and str(record.exc_info[1]) == "the notifier broke"


async def test_background_leaves_an_awaited_failure_to_its_caller(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fails() -> None:
        raise RuntimeError("bad token")

    task = Background("front end").start(fails(), name="session", awaited=True)
    with pytest.raises(RuntimeError, match="bad token"):
        await task
    await asyncio.sleep(0)
    assert [r for r in caplog.records if r.name == "core.waits"] == []


async def test_background_close_waits_its_grace_then_cancels_and_awaits_the_rest() -> None:
    ended: list[str] = []

    async def runs(name: str, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
            ended.append(name)
        except asyncio.CancelledError:
            ended.append(f"{name} cancelled")
            raise

    tasks = Background("jobs")
    quick = tasks.start(runs("quick", 0.01), name="quick")
    slow = tasks.start(runs("slow", 60), name="slow")
    assert len(tasks) == 2
    await tasks.close(grace_s=0.5)
    assert ended == ["quick", "slow cancelled"]
    assert quick.done() and slow.cancelled() and len(tasks) == 0


async def test_first_of_gives_the_first_and_cancels_the_others() -> None:
    woken = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, woken.set)
    first, other = await first_of(woken.wait(), asyncio.Event().wait(), limit_s=10)
    assert first.done() and not first.cancelled() and other.cancelled()
    timed_out = await first_of(asyncio.Event().wait(), limit_s=0.01)
    assert [t.cancelled() for t in timed_out] == [True]


async def test_cancel_all_cancels_again_a_task_that_lost_its_cancel() -> None:
    """A task whose first cancel is lost (as ``asyncio.wait_for`` of Python 3.11 loses one
    that comes as what it waits for ends) is cancelled again: ``cancel_all`` ends. Before,
    the protocol watch's stop awaited such a reader for ever."""

    async def loses_one() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(60)
        await asyncio.sleep(60)

    task = asyncio.create_task(loses_one())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_all([task]), 10)
    assert task.cancelled()


async def test_cancel_all_says_a_task_that_never_ends(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task that swallows every cancel holds its owner's stop: said once in the log, with
    its name, while it is cancelled again (here until it gives up after 8 cancels)."""
    monkeypatch.setattr(waits, "STILL_S", 0.3)
    monkeypatch.setattr(waits, "RECANCEL_S", 0.1)

    async def deaf() -> None:
        for _ in range(8):
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(60)
        await asyncio.sleep(60)

    task = asyncio.create_task(deaf(), name="deaf-reader")
    await asyncio.sleep(0)
    with caplog.at_level("WARNING", logger="core.waits"):
        await asyncio.wait_for(cancel_all([task]), 10)
    assert task.cancelled()
    said = [r.getMessage() for r in caplog.records if "deaf-reader" in r.getMessage()]
    assert said == ["deaf-reader still running 0.3 s after being cancelled: cancelled again "
                    "every 0.1 s"]  # fmt: skip
