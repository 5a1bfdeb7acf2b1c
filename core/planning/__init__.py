"""Plans: a goal turned by a model into a reviewed task graph, created in one transaction.

A draft is validated before anyone sees it (roles, priorities, refs, cycles, bounds: the
same checks core applies when tasks are created), stored, previewed, then approved (every
task created at once, grouped under the plan id) or discarded. The model client itself is
``core.ai``; this package holds what planning means.
"""

from __future__ import annotations

from core.planning._model import Plan, PlanItem, PlanProgress, parse_plan_ref, plan_ref
from core.planning._service import PlanService
from core.planning._store import approve_plan, discard_plan, list_plans
from core.planning._view import render_preview, render_progress

__all__ = [
    "Plan",
    "PlanItem",
    "PlanProgress",
    "PlanService",
    "approve_plan",
    "discard_plan",
    "list_plans",
    "parse_plan_ref",
    "plan_ref",
    "render_preview",
    "render_progress",
]
