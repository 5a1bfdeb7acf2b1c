"""PlanService: draft (ask the model, validate, store), approve, discard and follow plans."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from core.ai import AIClient, PlanRejected
from core.errors import SwarmError
from core.planning._model import Plan, PlanProgress, item_from_json, parse_plan_ref, plan_ref
from core.planning._prompt import (
    PlanLimits,
    check_answer,
    correction_prompt,
    system_prompt,
    user_prompt,
)
from core.planning._store import (
    approve_plan,
    discard_plan,
    get_plan,
    insert_plan,
    list_plans,
    plan_progress,
)
from core.tasks import creation

if TYPE_CHECKING:
    from core.store.access import StoreAccess

log = logging.getLogger(__name__)


class PlanService:
    """Draft, approve, discard and follow plans; wraps a StoreAccess and an AIClient."""

    def __init__(self, service: StoreAccess, ai: AIClient) -> None:
        self.service = service
        self.ai = ai

    def limits(self) -> PlanLimits:
        """The bounds a plan must respect."""
        s = self.service.settings
        return PlanLimits(
            self.ai.settings.plan_max_tasks,
            s.max_title,
            s.max_text,
            self.ai.settings.plan_max_context,
        )

    async def draft(self, goal: str, context: str, actor: str) -> Plan:
        """Ask the model for a plan, validate it (one corrective round-trip), store a draft."""
        self.ai.settings.require("planning")
        ctx = self.service.ctx(actor)
        goal = ctx.check_text(goal, "goal")
        limits = self.limits()
        prompt, notes = user_prompt(goal, context, limits)
        messages = [
            {"role": "system", "content": system_prompt(list(ctx.agents.values()), limits)},
            {"role": "user", "content": prompt},
        ]
        document, model = await self._ask(messages, actor)
        plan_id = await self.service.write(actor, insert_plan, goal, document, model, notes)
        log.info(
            "plan %s drafted by %s: %d tasks", plan_ref(plan_id), actor, len(document["tasks"])
        )
        return await self.get(plan_id)

    async def _ask(self, messages: list[dict[str, str]], actor: str) -> tuple[dict[str, Any], str]:
        for round_trip in (1, 2):
            result = await self.ai.chat("plan", messages, json_mode=True, actor=actor)
            document, errors = await self.check(result.content, actor)
            if not errors:
                return document, result.model
            log.info("plan answer %d invalid: %s", round_trip, "; ".join(errors))
            messages = [
                *messages,
                {"role": "assistant", "content": result.content[:20_000]},
                {"role": "user", "content": correction_prompt(errors)},
            ]
        shown = "; ".join(errors[:4]) + (
            f" (and {len(errors) - 4} more)" if len(errors) > 4 else ""
        )
        raise PlanRejected(f"the model's plan was invalid twice, nothing was created: {shown}")

    async def check(self, content: str, actor: str) -> tuple[dict[str, Any], list[str]]:
        """Validate an answer: its shape, then its tasks as their creation would check them."""
        ctx = self.service.ctx(actor)
        document, errors = check_answer(content, ctx, self.limits())
        if errors:
            return document, errors
        specs = [item_from_json(t).spec() for t in document["tasks"]]
        try:
            await self.service.read(creation.check_tasks, ctx, specs)
        except SwarmError as exc:
            return document, [str(exc)]
        return document, []

    async def approve(self, ref: str | int, actor: str) -> list[int]:
        """Create every task of a draft in one transaction, under the plan id; their ids."""
        ids = await self.service.write(actor, approve_plan, parse_plan_ref(ref))
        log.info("plan %s approved by %s: %d tasks", plan_ref(parse_plan_ref(ref)), actor, len(ids))
        return ids

    async def discard(self, ref: str | int, actor: str) -> None:
        """Drop a draft; nothing is created."""
        await self.service.write(actor, discard_plan, parse_plan_ref(ref))

    async def get(self, ref: str | int) -> Plan:
        """One plan by id (``P-3`` or 3)."""
        return await self.service.read(get_plan, parse_plan_ref(ref))

    async def list_plans(self, status: str | None = None, limit: int = 25) -> list[Plan]:
        """Plans, newest first (optionally of one status)."""
        return await self.service.read(list_plans, status, limit)

    async def progress(self, ref: str | int) -> PlanProgress:
        """The plan with its tasks: done / total, what is blocked and why."""
        return await self.service.read(plan_progress, parse_plan_ref(ref))
