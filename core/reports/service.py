"""The dashboard's reads as the front ends ask for them: the board, task search, the
figures of a period and the metrics snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from core.models import Task, TaskStatus
from core.reports import counts, dashboard
from core.reports.export import chunks, export_bytes
from core.reports.stats import Stats, collect
from core.store.access import StoreAccess


class ReportBook:
    """Named reads for the dashboard, the REST API and ``/metrics``."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def find_tasks(
        self, flt: dashboard.TaskFilter, before_id: int | None, limit: int
    ) -> list[Task]:
        """Tasks matching ``flt``, newest first, older than ``before_id`` (a page)."""
        return await self.access.read(dashboard.find_tasks, flt, before_id, limit)

    async def board(
        self,
        flt: dashboard.TaskFilter,
        per_column: int,
        capped: Mapping[TaskStatus, int] | None = None,
    ) -> list[tuple[TaskStatus, int, list[Task]]]:
        """Each status column: how many tasks match, and the first of them."""
        return await self.access.read(dashboard.board, flt, per_column, capped)

    async def counts(self, since: float, until: float) -> counts.Counts:
        """The counted events from ``since`` to ``until``."""
        return await self.access.read(counts.count, since, until)

    async def delivery_latency(self, since: float) -> dict[str, dict[str, float]]:
        """Each agent's delivery seconds since ``since``, as percentiles."""
        return await self.access.read(dashboard.delivery_latency, since)

    async def snapshot(self) -> dashboard.Snapshot:
        """The database's figures ``/metrics`` exposes."""
        return await self.access.read(dashboard.read_snapshot)

    async def stats(self, period: str) -> Stats:
        """The figures of the last ``period`` (``30m``, ``12h``, ``7d``; at most 31 days)."""
        return await collect(self.access, period)

    def export(self, what: str, fmt: str) -> AsyncIterator[str]:
        """The export of ``what`` (tasks, events, ...) as ``fmt`` (csv, json), in pieces."""
        return chunks(self.access, what, fmt)

    async def export_bytes(self, what: str, fmt: str) -> bytes:
        """The whole export in memory (a Discord attachment), UTF-8."""
        return await export_bytes(self.access, what, fmt)
