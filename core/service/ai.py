"""The AI features for a front end (CLI, Discord): plans, summaries, usage, one client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from core.ai import AIClient, AISettings, usage_report
from core.planning import PlanService
from core.reports.summary import SummaryService

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


class AIBook:
    """Plans, summaries and usage over a SwarmService; close it (or use ``async with``)."""

    def __init__(
        self,
        service: SwarmService,
        settings: AISettings,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.service = service
        self.settings = settings
        self.client = AIClient(self.settings, service.store, service.clock, sleep)
        self.plans = PlanService(service.store, self.client)
        self.summaries = SummaryService(service.store, self.client, service.inbox.needs)

    async def usage(self, days: int = 30) -> dict[str, Any]:
        """Calls, tokens and cost per purpose, model and day; the month's spend and budget."""
        report = await self.service.store.read(
            usage_report, self.service.clock.now(), self.settings.budget_usd, days
        )
        return {
            **report,
            "configured": self.settings.enabled,
            "models": {"plan": self.settings.model_plan, "summary": self.settings.model_summary},
        }

    async def close(self) -> None:
        """Close the model client."""
        await self.client.close()

    async def __aenter__(self) -> AIBook:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
