"""A store call in a worker thread, and how it ends when its caller is cancelled (both
databases: ``core.store.sqlite`` and ``core.store.postgres.store``)."""

from __future__ import annotations

from core.errors import StoreError


class Abandoned(StoreError):
    """The caller of this store call was cancelled: the call stops at its next statement
    (or before its commit: a write rolls back) instead of running on in its thread."""


class StoreCall:
    """One store call in a worker thread; ``abandoned`` once its caller is cancelled."""

    __slots__ = ("abandoned",)

    def __init__(self) -> None:
        self.abandoned = False
