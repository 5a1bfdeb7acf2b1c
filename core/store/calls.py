"""A store call in a worker thread, and how it ends when its caller is cancelled (both
databases: ``core.store.sqlite`` and ``core.store.postgres.store``); the one worker of a
PostgreSQL write connection, whose urgent calls go first (:class:`OneWorker`)."""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from core.errors import StoreError

T = TypeVar("T")


class Abandoned(StoreError):
    """The caller of this store call was cancelled: the call stops at its next statement
    (or before its commit: a write rolls back) instead of running on in its thread."""


class StoreCall:
    """One store call in a worker thread; ``abandoned`` once its caller is cancelled;
    ``queued``: when it was given to the thread (``time.perf_counter``)."""

    __slots__ = ("abandoned", "queued")

    def __init__(self) -> None:
        self.abandoned = False
        self.queued = time.perf_counter()


URGENT: contextvars.ContextVar[bool] = contextvars.ContextVar("store_urgent", default=False)
"""Whether the store calls made in this context go ahead of the others queued for the same
write connection (a delivery node's claims, prompts and receipts: :func:`urgent`)."""


@contextlib.contextmanager
def urgent() -> Iterator[None]:
    """Store calls made inside go ahead of those queued outside (its watch, journals,
    heartbeat), in their own order: a prompt's path waits for at most the call in flight."""
    token = URGENT.set(True)
    try:
        yield
    finally:
        URGENT.reset(token)


class _Stop:
    """The worker's last item: after every call queued before it."""


_RANK_URGENT, _RANK_NORMAL, _RANK_STOP = 0, 1, 2


class OneWorker(Executor):
    """One worker thread running the calls given to it one at a time: in the order given,
    except that a call submitted under :func:`urgent` goes ahead of the others waiting
    (``loop.run_in_executor`` submits in the caller's context, where ``URGENT`` is read)."""

    def __init__(self, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Queue ``fn(*args, **kwargs)``; its future."""
        if self._closed:
            raise RuntimeError("cannot schedule new calls after shutdown")
        future: Future[T] = Future()
        rank = _RANK_URGENT if URGENT.get() else _RANK_NORMAL
        self._queue.put((rank, next(self._order), (future, fn, args, kwargs)))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Run what is queued, then end the thread (``wait``: until it has)."""
        if not self._closed:
            self._closed = True
            self._queue.put((_RANK_STOP, next(self._order), _Stop()))
        if wait:
            self._thread.join()

    def _work(self) -> None:
        while True:
            _, _, item = self._queue.get()
            if isinstance(item, _Stop):
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # the caller's to see, as a ThreadPoolExecutor's
                future.set_exception(exc)
            else:
                future.set_result(result)
