"""Model settings from an environment mapping: endpoint, models per purpose, prices, budget."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from core.ai._errors import ENABLE_HINT, AINotConfigured
from core.errors import ConfigError
from core.settings.envvars import Setting, count, defaults, number, read_fields, verbatim

DEFAULT_MODEL = "gpt-4o-mini"
OPENAI_URL = "https://api.openai.com/v1"
SECRET_NAME = re.compile(r"(TOKEN|KEY|SECRET|PASSWORD)", re.IGNORECASE)


@dataclass(frozen=True)
class Price:
    """US dollars per million prompt (input) and completion (output) tokens."""

    input_per_m: float
    output_per_m: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """The cost of one call in US dollars."""
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1e6


# A small default table (USD per 1M tokens); SWARM_AI_PRICES adds to or overrides it.
DEFAULT_PRICES: Mapping[str, Price] = MappingProxyType(
    {
        "gpt-4o-mini": Price(0.15, 0.60),
        "gpt-4o": Price(2.50, 10.00),
        "gpt-4.1": Price(2.00, 8.00),
        "gpt-4.1-mini": Price(0.40, 1.60),
        "gpt-4.1-nano": Price(0.10, 0.40),
        "o4-mini": Price(1.10, 4.40),
    }
)


def _prices(name: str, raw: str) -> dict[str, Price]:
    return {**DEFAULT_PRICES, **parse_prices(raw)}


def _shown_prices(prices: Mapping[str, Price]) -> str:
    return ", ".join(f"{m}={p.input_per_m:g}/{p.output_per_m:g}" for m, p in prices.items())


AI: tuple[Setting, ...] = (
    Setting(
        "OPENAI_API_KEY",
        "api_key",
        None,
        verbatim,
        "the model API's key (OpenAI)",
        secret=True,
        unset="(not set)",
    ),
    Setting(
        "OPENAI_BASE_URL",
        "base_url",
        None,
        lambda name, raw: raw.rstrip("/") or None,
        "a local OpenAI-compatible server instead of OpenAI",
        unset=f"(none: {OPENAI_URL})",
    ),
    Setting("SWARM_MODEL_PLAN", "model_plan", DEFAULT_MODEL, verbatim, "the model that plans"),
    Setting(
        "SWARM_MODEL_SUMMARY", "model_summary", DEFAULT_MODEL, verbatim, "the model that summarises"
    ),
    Setting(
        "SWARM_AI_TIMEOUT", "timeout_s", 60.0, number(0.01, 3600), "seconds a model call may take"
    ),
    Setting("SWARM_AI_RETRIES", "retries", 2, count(0, 10), "retries of a failed model call"),
    Setting(
        "SWARM_AI_BACKOFF", "backoff_s", 1.0, number(0, 600), "first wait before a retry, doubled"
    ),
    Setting(
        "SWARM_AI_BUDGET",
        "budget_usd",
        None,
        lambda name, raw: _budget(raw),
        "US dollars a month the model may cost",
        unset="(no limit)",
    ),
    Setting(
        "SWARM_AI_PRICES",
        "prices",
        DEFAULT_PRICES,
        _prices,
        "prices per 1M tokens, over the built-in table",
        unset=_shown_prices(DEFAULT_PRICES),
    ),
    Setting("SWARM_PLAN_MAX_TASKS", "plan_max_tasks", 20, count(1, 500), "most tasks in one plan"),
    Setting(
        "SWARM_PLAN_MAX_CONTEXT",
        "plan_max_context",
        24_000,
        count(100),
        "characters of context a plan's prompt may hold",
    ),
)
_DEFAULT = defaults(AI)


@dataclass(frozen=True)
class AISettings:
    """Where the model is, which model does what, what it costs and how long to wait."""

    api_key: str | None = field(default=_DEFAULT["api_key"], repr=False)
    base_url: str | None = _DEFAULT["base_url"]
    model_plan: str = _DEFAULT["model_plan"]
    model_summary: str = _DEFAULT["model_summary"]
    timeout_s: float = _DEFAULT["timeout_s"]
    retries: int = _DEFAULT["retries"]
    backoff_s: float = _DEFAULT["backoff_s"]
    backoff_max_s: float = 20.0
    prices: Mapping[str, Price] = field(default_factory=lambda: dict(_DEFAULT["prices"]))
    budget_usd: float | None = _DEFAULT["budget_usd"]
    plan_max_tasks: int = _DEFAULT["plan_max_tasks"]
    plan_max_context: int = _DEFAULT["plan_max_context"]
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def enabled(self) -> bool:
        """True when a key or a base URL is configured."""
        return bool(self.api_key or self.base_url)

    @property
    def endpoint(self) -> str:
        """The base URL calls go to."""
        return self.base_url or OPENAI_URL

    def require(self, feature: str) -> None:
        """Raise AINotConfigured naming ``feature`` when no model is configured."""
        if not self.enabled:
            raise AINotConfigured(f"{feature} needs a model: {ENABLE_HINT}")

    def model_for(self, purpose: str) -> str:
        """The model configured for ``purpose`` (``plan`` or ``summary``)."""
        return self.model_summary if purpose.startswith("summary") else self.model_plan

    def price_for(self, model: str) -> Price | None:
        """The price of ``model``: exact name, else the longest known prefix, else None."""
        if model in self.prices:
            return self.prices[model]
        prefixes = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(prefixes, key=len)] if prefixes else None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AISettings:
        """Read the settings from ``env`` (``AI``: ``OPENAI_API_KEY``, ``SWARM_MODEL_PLAN``...)."""
        return cls(**read_fields(AI, env), secrets=_secrets(env))


def parse_prices(raw: str) -> dict[str, Price]:
    """Read ``SWARM_AI_PRICES``: JSON ``{"model": [in, out]}`` or ``model=in/out, ...``."""
    raw = raw.strip()
    if not raw:
        return {}
    pairs = _json_prices(raw) if raw.startswith("{") else _text_prices(raw)
    prices = {}
    for model, (cost_in, cost_out) in pairs:
        try:
            price = Price(float(cost_in), float(cost_out))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(f"SWARM_AI_PRICES: price of {model!r} must be numbers") from None
        if price.input_per_m < 0 or price.output_per_m < 0:
            raise ConfigError(f"SWARM_AI_PRICES: price of {model!r} must not be negative")
        prices[model.strip()] = price
    return prices


def _json_prices(raw: str) -> list[tuple[str, tuple[object, object]]]:
    try:
        table = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"SWARM_AI_PRICES is not valid JSON: {exc.msg}") from None
    pairs = []
    for model, value in table.items():
        if not isinstance(value, list) or len(value) != 2:
            raise ConfigError(f"SWARM_AI_PRICES: {model!r} needs [input, output] per 1M tokens")
        pairs.append((model, (value[0], value[1])))
    return pairs


def _text_prices(raw: str) -> list[tuple[str, tuple[object, object]]]:
    pairs: list[tuple[str, tuple[object, object]]] = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        model, _, costs = item.partition("=")
        cost_in, slash, cost_out = costs.partition("/")
        if not model.strip() or not slash:
            raise ConfigError(
                f"SWARM_AI_PRICES: {item!r} should look like model=input/output "
                "(US dollars per 1M tokens), e.g. gpt-4o-mini=0.15/0.60"
            )
        pairs.append((model, (cost_in, cost_out)))
    return pairs


def _budget(raw: str) -> float | None:
    raw = raw.strip().lstrip("$")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"SWARM_AI_BUDGET must be US dollars per month, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"SWARM_AI_BUDGET must not be negative, got {raw}")
    return value


def _secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values of secret-looking variables: never to be sent in a prompt."""
    found = {v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= 8}
    return tuple(sorted(found, key=len, reverse=True))
