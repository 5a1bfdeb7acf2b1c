"""Errors of the model layer; every message is fit to show a user as it is."""

from __future__ import annotations

from core.errors import ConfigError, InvalidInput, SwarmError

ENABLE_HINT = (
    "set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (a local OpenAI-compatible server such "
    "as Ollama, vLLM or LM Studio) to enable it"
)


class AINotConfigured(ConfigError):
    """No API key and no base URL: the AI features are off."""


class AIError(SwarmError):
    """A model call failed (after the bounded retries)."""


class BudgetExceeded(SwarmError):
    """The monthly AI budget is used up: calls are refused."""


class PlanRejected(InvalidInput):
    """The model's plan stayed invalid after the corrective round-trip."""
