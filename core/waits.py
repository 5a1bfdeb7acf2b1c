"""Waiting: with a time limit without losing a cancellation, between tries, and for the
tasks started in the background, each with an owner.

On Python 3.11 ``asyncio.wait_for`` swallows a cancellation that arrives as the awaited
thing finishes: the caller's loop then outlives the stop (a scheduler going on after losing
its lock, a coordinator that never exits). ``asyncio.timeout`` does not.

Every retry loop waits the same way between tries: an ``ErrorBackoff`` (the first wait
doubled per failure in a row after the first, capped), counting the failures itself
(``failed``, ``succeeded``) or told a count kept elsewhere (``delay``: a task's attempts).

Background work has an owner, and this module is the one place in the product that starts a
task outside a ``TaskGroup`` (``tests/project/test_task_owners.py`` fails on any other). A
task whose lifetime one ``async with`` bounds starts in an ``asyncio.TaskGroup`` there
(``first_of`` races a few that way). One that outlives the statement that starts it (a front
end's notifier, a protocol host's turn, a summary made in passing) starts in its object's or
its run's ``Background``: kept until it ends, its failure logged when it ends (unless the
caller reads its result itself), every one still running cancelled and awaited at ``close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class ErrorBackoff:
    """How long a failing step waits before its next try: ``first_s`` doubled per failure
    in a row after the first, at most ``max_s``."""

    def __init__(self, first_s: float, max_s: float) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.failures = 0

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` in a row (no failure yet counts as one)."""
        return min(self.max_s, self.first_s * 2.0 ** min(max(failures - 1, 0), 60))

    def failed(self) -> float:
        """Count one more failure in a row; the wait before the next try."""
        self.failures += 1
        return self.delay(self.failures)

    def succeeded(self) -> None:
        """The streak is over."""
        self.failures = 0


def in_own_thread(work: Callable[[], T], name: str) -> asyncio.Future[T]:
    """``work``'s result, as a future of the running loop, from a daemon thread of its own:
    for a read of a file an agent wrote, which may block for good (a FIFO swapped in after
    every check). Unlike ``asyncio.to_thread`` (the loop's executor, which the loop's end
    and the interpreter's exit wait for), a read that never ends holds nothing: the caller
    bounds its wait (``within`` over ``asyncio.shield``), and the process exits around it."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = work()
        except BaseException as exc:  # given to the future's awaiter
            _settle_soon(loop, future, None, exc)
        else:
            _settle_soon(loop, future, result, None)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def _settle_soon(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[T],
    result: T | None,
    error: BaseException | None,
) -> None:
    def settle() -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(settle)


async def within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """``awaitable``'s result, or :class:`TimeoutError` once ``seconds`` passed (None: no
    limit): ``asyncio.wait_for`` without losing a cancel that comes as it ends."""
    async with asyncio.timeout(seconds):
        return await awaitable


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` pass; True if it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


class Gathered:
    """A call made at most once per ``delay_s``: :meth:`soon` asks for it, and the asks
    that come before it runs are the same call (a burst of notifications, a stream's
    updates: one wake-up after them, none lost). Used from the event loop."""

    def __init__(self, delay_s: float, call: Callable[[], None]) -> None:
        self.delay_s = delay_s
        self.call = call
        self._planned: asyncio.TimerHandle | None = None

    def soon(self) -> None:
        """The call ``delay_s`` from now, unless one is planned already."""
        if self._planned is None:
            self._planned = asyncio.get_running_loop().call_later(self.delay_s, self._run)

    def cancel(self) -> None:
        """Drop the planned call, if any."""
        if self._planned is not None:
            self._planned.cancel()
            self._planned = None

    def _run(self) -> None:
        self._planned = None
        self.call()


class Background:
    """The tasks one object (or one function's run) started and has not seen end."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(
        self, work: Coroutine[Any, Any, T], name: str, *, awaited: bool = False
    ) -> asyncio.Task[T]:
        """``work`` as a task named ``name``, in the caller's context. ``awaited``: the
        caller awaits it and reports its failure, so it is not logged here too."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._ended if not awaited else self._tasks.discard)
        return task

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("%s: %s failed", self.owner, task.get_name(), exc_info=error)

    def __len__(self) -> int:
        return len(self._tasks)

    def cancel(self) -> None:
        """Cancel every task still running (a caller that cannot wait: ``close`` awaits)."""
        for task in self._tasks:
            task.cancel()

    async def close(self, grace_s: float = 0.0) -> None:
        """Let the tasks still running end by themselves for at most ``grace_s``, then
        cancel the rest; all awaited."""
        if grace_s > 0 and self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace_s)
        while self._tasks:
            running = list(self._tasks)
            await cancel_all(running)
            self._tasks.difference_update(running)


RECANCEL_S = 0.5  # a task cancelled and still running this long later is cancelled again
STILL_S = 10.0  # one still running this long after its first cancel is said in the log


async def cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and await their ends, what they raised retrieved. One that runs on
    is cancelled again: Python 3.11's ``asyncio.wait_for`` loses a cancel that comes as
    what it waits for ends (a connect refused at once), and a loop around it goes on."""
    ending = list(tasks)
    running, since = set(ending), time.monotonic()
    said = False
    while running:
        for task in running:
            task.cancel()
        _, running = await asyncio.wait(running, timeout=RECANCEL_S)
        if running and not said and time.monotonic() - since >= STILL_S:
            said = True  # one that never ends holds its owner's stop: said, not silent
            names = ", ".join(sorted(task.get_name() for task in running))
            log.warning("%s still running %g s after being cancelled: cancelled again every "
                        "%g s", names, STILL_S, RECANCEL_S)  # fmt: skip
    await asyncio.gather(*ending, return_exceptions=True)


async def first_of(
    *work: Coroutine[Any, Any, Any], limit_s: float | None = None
) -> list[asyncio.Task[Any]]:
    """Run ``work`` side by side until the first ends (or ``limit_s`` pass): the others are
    cancelled, all are awaited (a ``TaskGroup``: an error in one is raised). The tasks in
    the order given; ``done() and not cancelled()`` says which ended by itself."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(each) for each in work]
        try:
            await asyncio.wait(tasks, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
    return tasks
