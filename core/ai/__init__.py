"""Calls to an OpenAI-compatible model: settings, a recording client, usage and cost.

``openai`` is imported only when a call is made, so importing this package stays cheap.
"""

from __future__ import annotations

from core.ai.client import AIClient, ChatResult, redact
from core.ai.errors import AIError, AINotConfigured, BudgetExceeded, PlanRejected
from core.ai.settings import DEFAULT_MODEL, DEFAULT_PRICES, AISettings, Price
from core.ai.usage import usage_report

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_PRICES",
    "AIClient",
    "AIError",
    "AINotConfigured",
    "AISettings",
    "BudgetExceeded",
    "ChatResult",
    "PlanRejected",
    "Price",
    "redact",
    "usage_report",
]
