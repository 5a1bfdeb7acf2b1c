"""Calls to an OpenAI-compatible model: settings, a recording client, usage and cost.

The package's face: what other packages use is named here; its modules (``_client``: the
model client, its retries and budget, ``_errors``: the model layer's errors, ``_queries``:
the usage rows' statements, ``_settings``: endpoint, models, prices and budget from the
environment, ``_usage``: a row per call and the sums ``swarm usage`` shows) are its own.
``openai`` is imported only when a call is made.
"""

from __future__ import annotations

from core.ai._client import AIClient
from core.ai._errors import ENABLE_HINT, AIError, BudgetExceeded, PlanRejected
from core.ai._settings import AI, AISettings
from core.ai._usage import render_usage, usage_report

__all__ = [
    "AI",
    "ENABLE_HINT",
    "AIClient",
    "AIError",
    "AISettings",
    "BudgetExceeded",
    "PlanRejected",
    "render_usage",
    "usage_report",
]
