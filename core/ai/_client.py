"""The model client: bounded retries with backoff, the budget, a usage row for every call."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from core.ai._errors import AIError, BudgetExceeded
from core.ai._settings import AISettings
from core.ai._usage import UsageRecord, month_start, record_usage, spent_since
from core.privacy.redact import redact_urls
from core.protocols import Clock
from core.store.access import StoreAccess
from core.waits import ErrorBackoff

log = logging.getLogger(__name__)

FEATURES = {"plan": "planning", "summary": "a written summary"}
TOKEN_LIKE = re.compile(
    r"\bsk-[A-Za-z0-9_-]{16,}"  # OpenAI-style keys
    r"|\b[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}"  # Discord bot tokens
)
Message = dict[str, str]


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with configured secrets and token-like strings replaced by ``[redacted]``."""
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return redact_urls(TOKEN_LIKE.sub("[redacted]", text))


@dataclass(frozen=True)
class ChatResult:
    """The model's answer and what it cost."""

    content: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    latency_s: float
    attempts: int


@dataclass(frozen=True)
class _Failure:
    """How one failed attempt reads to a user, and whether another try may help."""

    message: str
    retryable: bool
    retry_after_s: float | None = None


class _CallFailed(Exception):
    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class AIClient:
    """Chat completions through the ``openai`` client; every call is recorded in ``usage``."""

    def __init__(
        self,
        settings: AISettings,
        store: StoreAccess,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._client: Any = None

    async def close(self) -> None:
        """Close the HTTP client (if one was opened)."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def __aenter__(self) -> AIClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def chat(
        self,
        purpose: str,
        messages: Sequence[Message],
        *,
        json_mode: bool = False,
        actor: str = "swarm",
    ) -> ChatResult:
        """One chat completion for ``purpose``; AIError after the bounded retries."""
        self.settings.require(FEATURES.get(purpose, purpose))
        await self.check_budget()
        model = self.settings.model_for(purpose)
        clean = [{**m, "content": redact(m["content"], self.settings.secrets)} for m in messages]
        started = time.monotonic()
        try:
            response, attempts = await self._call(model, clean, json_mode)
        except _CallFailed as exc:
            rec = UsageRecord(
                purpose,
                model,
                0,
                0,
                None,
                time.monotonic() - started,
                exc.attempts,
                ok=False,
                error=str(exc),
                actor=actor,
            )
            await self._store.update(record_usage, self._clock.now(), rec)
            log.warning("model call %s (%s) failed: %s", purpose, model, exc)
            raise AIError(str(exc)) from None
        return await self._record_success(purpose, model, response, started, attempts, actor)

    async def check_budget(self) -> None:
        """Raise BudgetExceeded when this month's spend has reached the budget."""
        budget = self.settings.budget_usd
        if budget is None:
            return
        since = month_start(self._clock.now())
        spent = await self._store.read(spent_since, since)
        if spent >= budget:
            month = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d")
            log.warning("AI budget used up: $%.4f of $%.2f since %s", spent, budget, month)
            raise BudgetExceeded(
                f"the monthly AI budget of ${budget:.2f} is used up (${spent:.4f} spent since "
                f"{month} UTC): model calls are refused until next month; raise "
                "SWARM_AI_BUDGET to continue"
            )

    def _openai(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.AsyncOpenAI(
                api_key=self.settings.api_key or "not-needed",
                base_url=self.settings.endpoint,
                timeout=self.settings.timeout_s,
                max_retries=0,
            )
        return self._client

    async def _call(self, model: str, messages: list[Message], json_mode: bool) -> tuple[Any, int]:
        import openai

        kwargs: dict[str, Any] = {"model": model, "messages": messages}
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        tries = self.settings.retries + 1
        for attempt in range(1, tries + 1):
            try:
                return await self._openai().chat.completions.create(**kwargs), attempt
            except openai.APIError as exc:
                failure = self._describe(exc, attempt)
                if not failure.retryable or attempt == tries:
                    raise _CallFailed(failure.message, attempt) from None
                delay = self._backoff(attempt, failure.retry_after_s)
                log.warning(
                    "model call to %s failed (%s); retry %d of %d in %.2f s",
                    model,
                    type(exc).__name__,
                    attempt,
                    tries - 1,
                    delay,
                )
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float:
        cap = self.settings.backoff_max_s
        delay = ErrorBackoff(self.settings.backoff_s, cap).delay(attempt)
        return min(max(delay, retry_after_s or 0.0), cap)

    def _describe(self, exc: Exception, attempt: int) -> _Failure:
        import openai

        tries = f"{attempt} {'try' if attempt == 1 else 'tries'}"
        if isinstance(exc, openai.APITimeoutError):
            return _Failure(
                f"the model did not answer within {self.settings.timeout_s:g} s ({tries}): "
                "try again later or raise SWARM_AI_TIMEOUT",
                True,
            )
        if isinstance(exc, openai.APIConnectionError):
            where = redact_urls(self.settings.endpoint)
            return _Failure(
                f"cannot reach the model server at {where} "
                f"({tries}): is it running? check OPENAI_BASE_URL",
                True,
            )
        if isinstance(exc, openai.APIStatusError):
            return self._describe_status(exc, tries)
        return _Failure("the model server sent something that is not a chat completion", False)

    def _describe_status(self, exc: Any, tries: str) -> _Failure:
        status = int(exc.status_code)
        if status == 429:
            return _Failure(
                f"the model server is rate limiting requests (HTTP 429, {tries}): "
                "try again in a minute",
                True,
                _retry_after(exc.response.headers),
            )
        if status in (408, 409) or status >= 500:
            return _Failure(
                f"the model server failed (HTTP {status}, {tries}): try again later", True
            )
        if status in (401, 403):
            return _Failure(
                f"the model server refused the credentials (HTTP {status}): check OPENAI_API_KEY",
                False,
            )
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = redact(str(body.get("message") or exc.message), self.settings.secrets)[:160]
        hint = ": check SWARM_MODEL_PLAN / SWARM_MODEL_SUMMARY" if status == 404 else ""
        return _Failure(
            f"the model server refused the request (HTTP {status}){hint}: {detail}", False
        )

    async def _record_success(
        self, purpose: str, model: str, response: Any, started: float, attempts: int, actor: str
    ) -> ChatResult:
        choices = response.choices or []
        content = (choices[0].message.content or "") if choices else ""
        usage = response.usage
        if usage is None:
            log.warning("model %s sent no token usage: recorded as 0 tokens", model)
        prompt = int(usage.prompt_tokens or 0) if usage else 0
        completion = int(usage.completion_tokens or 0) if usage else 0
        price = self.settings.price_for(model) or self.settings.price_for(response.model or "")
        cost = price.cost(prompt, completion) if price else None
        latency = time.monotonic() - started
        rec = UsageRecord(
            purpose, model, prompt, completion, cost, latency, attempts, True, actor=actor
        )
        await self._store.update(record_usage, self._clock.now(), rec)
        log.info(
            "model call %s (%s): %d + %d tokens, $%.6f, %.2f s, %d tries",
            purpose,
            model,
            prompt,
            completion,
            cost or 0.0,
            latency,
            attempts,
        )
        return ChatResult(content, model, prompt, completion, cost, latency, attempts)


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("retry-after") if headers is not None else None
    try:
        return float(raw) if raw else None
    except ValueError:
        return None
