"""Workflows: reusable task graphs with typed variables, conditions, fan-out, failure
branches and gates, run as campaigns (a group of tasks followed to the end).

``model`` is the Python API (``Workflow("release").var(...).step(...)``), ``loader`` reads
TOML files through it, ``expand`` decides variables and makes the tasks of a run, ``runs``
and ``campaigns`` write them, ``service`` is what the front ends call.
"""

from __future__ import annotations

from core.workflows.campaigns import Campaign, campaign_ref, parse_campaign_ref
from core.workflows.model import Step, Var, Workflow, WorkflowError
from core.workflows.service import RunPlan, WorkflowBook

__all__ = [
    "Campaign",
    "RunPlan",
    "Step",
    "Var",
    "Workflow",
    "WorkflowBook",
    "WorkflowError",
    "campaign_ref",
    "parse_campaign_ref",
]
