"""The model client: retries and backoff, timeouts, usage and cost, the budget, settings."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
from localmodel import LocalModel, Step

from core.ai._client import AIClient
from core.ai._errors import AIError, AINotConfigured, BudgetExceeded
from core.ai._settings import DEFAULT_MODEL, AISettings, Price, parse_prices
from core.ai._usage import month_start, render_usage
from core.errors import ConfigError
from core.protocols import ManualClock
from core.service.ai import AIBook
from core.service.swarm import SwarmService
from tests.ai.conftest import KEY, RecordingSleep, ai_settings, count_rows

pytestmark = pytest.mark.timeout(30)
HELLO = [{"role": "user", "content": "hello"}]


def client(service: SwarmService, settings: AISettings, sleep: RecordingSleep) -> AIClient:
    """A client on the test database."""
    return AIClient(settings, service.store, service.clock, sleep)


async def usage_rows(service: SwarmService) -> list[dict[str, Any]]:
    """Every usage row as a dict."""
    return await service.store.read(
        lambda c: [dict(r) for r in c.execute("SELECT * FROM usage ORDER BY id")]
    )


async def test_429_then_success_backs_off_and_records_one_call(
    service: SwarmService, server: LocalModel, sleep: RecordingSleep
) -> None:
    server.queue(
        Step.fail(429),
        Step.fail(429, headers={"Retry-After": "3"}),
        Step(text="fine", input_tokens=1000, output_tokens=500),
    )
    async with client(service, ai_settings(server), sleep) as ai:
        result = await ai.chat("plan", HELLO)
    assert (result.content, result.attempts) == ("fine", 3)
    assert sleep.delays == [0.5, 3.0]  # exponential backoff, then the server's Retry-After
    assert len(server.requests) == 3
    assert result.cost == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    (row,) = await usage_rows(service)
    assert (row["purpose"], row["model"], row["ok"], row["attempts"]) == (
        "plan",
        "test-model",
        1,
        3,
    )
    assert (row["prompt_tokens"], row["completion_tokens"]) == (1000, 500)
    assert row["cost"] == pytest.approx(0.002)
    assert row["latency_s"] > 0


async def test_server_errors_are_retried_a_bounded_number_of_times(
    service: SwarmService, server: LocalModel, sleep: RecordingSleep
) -> None:
    server.queue(*(Step.fail(500) for _ in range(5)))
    async with client(service, ai_settings(server, retries=2), sleep) as ai:
        with pytest.raises(AIError, match=r"failed \(HTTP 500, 3 tries\): try again later"):
            await ai.chat("summary", HELLO)
    assert len(server.requests) == 3 and server.pending == 2
    assert sleep.delays == [0.5, 1.0]
    (row,) = await usage_rows(service)
    assert (row["ok"], row["attempts"], row["prompt_tokens"], row["cost"]) == (0, 3, 0, None)
    assert "HTTP 500" in str(row["error"])


async def test_a_timeout_is_a_clear_error_after_bounded_retries(
    service: SwarmService, server: LocalModel, sleep: RecordingSleep
) -> None:
    server.queue(*(Step(text="late", delay=5) for _ in range(3)))
    settings = ai_settings(server, timeout_s=0.2, retries=1)
    async with client(service, settings, sleep) as ai:
        with pytest.raises(
            AIError,
            match=r"did not answer within 0.2 s \(2 tries\).*"
            "SWARM_AI_TIMEOUT",
        ):
            await ai.chat("plan", HELLO)
    assert len(server.requests) == 2 and sleep.delays == [0.5]


async def test_refused_credentials_are_not_retried(
    service: SwarmService, server: LocalModel, sleep: RecordingSleep
) -> None:
    server.queue(Step.fail(401, f"Incorrect API key provided: {KEY}"))
    async with client(service, ai_settings(server), sleep) as ai:
        with pytest.raises(
            AIError,
            match=r"refused the credentials \(HTTP 401\): check "
            "OPENAI_API_KEY",
        ):
            await ai.chat("plan", HELLO)
    assert len(server.requests) == 1 and sleep.delays == []


async def test_an_unreachable_server_is_named(service: SwarmService, sleep: RecordingSleep) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = AISettings(base_url=f"http://127.0.0.1:{port}/v1", retries=1, backoff_s=0.01)
    async with client(service, settings, sleep) as ai:
        with pytest.raises(
            AIError,
            match=f"cannot reach the model server at http://127.0.0.1:{port}/v1 \\(2 tries\\)",
        ):
            await ai.chat("plan", HELLO)


async def test_usage_and_cost_are_summed_per_purpose_model_and_day(
    service: SwarmService, server: LocalModel, sleep: RecordingSleep, clock: ManualClock
) -> None:
    settings = ai_settings(server, model_summary="gpt-4o-mini")
    server.queue(
        Step(text="p1", input_tokens=100, output_tokens=10),
        Step(text="p2", input_tokens=300, output_tokens=30),
        Step(text="s1", input_tokens=1_000_000, output_tokens=0),
        Step.fail(400, "bad request"),
    )
    async with AIBook(service, settings, sleep) as ai:
        await ai.client.chat("plan", HELLO)
        clock.advance(86_400)
        await ai.client.chat("plan", HELLO)
        await ai.client.chat("summary", HELLO)
        with pytest.raises(AIError, match=r"refused the request \(HTTP 400\): .*bad request"):
            await ai.client.chat("plan", HELLO)
        report = await ai.usage()
    assert report["total"]["calls"] == 4 and report["total"]["failed"] == 1
    assert report["total"]["prompt_tokens"] == 1_000_400
    plan, summary = report["by_purpose"]
    assert (plan["purpose"], plan["calls"], plan["prompt_tokens"], plan["completion_tokens"]) == (
        "plan",
        3,
        400,
        40,
    )
    assert plan["cost"] == pytest.approx((400 * 1.0 + 40 * 2.0) / 1e6)
    assert summary["cost"] == pytest.approx(0.15)  # default price of gpt-4o-mini
    assert [m["model"] for m in report["by_model"]] == ["gpt-4o-mini", "test-model"]
    day1, day2 = report["by_day"]
    assert (day1["calls"], day2["calls"]) == (1, 3)
    assert day1["day"] == datetime.fromtimestamp(clock.now() - 86_400, UTC).strftime("%Y-%m-%d")
    assert report["month_cost"] == pytest.approx(0.15 + 0.00048)
    assert report["configured"] is True and report["models"]["summary"] == "gpt-4o-mini"
    text = render_usage(report)
    assert "plan           3 calls (1 failed), 400 prompt + 40 completion tokens" in text


async def test_unknown_models_are_recorded_without_a_price(
    service: SwarmService, server: LocalModel, sleep: RecordingSleep
) -> None:
    server.queue(Step(text="ok"))
    settings = ai_settings(server, model_plan="llama3.1:8b")
    async with AIBook(service, settings, sleep) as ai:
        result = await ai.client.chat("plan", HELLO)
        report = await ai.usage()
    assert result.cost is None
    assert report["by_model"][0]["unpriced"] == 1 and report["month_cost"] == 0
    assert "1 without a price" in render_usage(report)


async def test_the_monthly_budget_is_enforced(
    service: SwarmService, server: LocalModel, sleep: RecordingSleep, clock: ManualClock
) -> None:
    settings = ai_settings(server, budget_usd=0.01)
    server.queue(
        Step(text="one", input_tokens=6000, output_tokens=0),
        Step(text="two", input_tokens=6000, output_tokens=0),
        Step(text="three", input_tokens=10, output_tokens=0),
    )
    async with client(service, settings, sleep) as ai:
        await ai.chat("plan", HELLO)
        await ai.chat("plan", HELLO)  # $0.006 spent: still under the budget
        with pytest.raises(
            BudgetExceeded,
            match=r"budget of \$0.01 is used up \(\$0.0120 "
            "spent since .* raise SWARM_AI_BUDGET",
        ):
            await ai.chat("summary", HELLO)
        assert len(server.requests) == 2 and await count_rows(service, "usage") == 2
        clock.advance(month_start(clock.now()) + 32 * 86_400 - clock.now())  # next month
        assert (await ai.chat("plan", HELLO)).content == "three"


async def test_no_key_and_no_url_says_how_to_enable(
    service: SwarmService, sleep: RecordingSleep
) -> None:
    async with client(service, AISettings.from_env({}), sleep) as ai:
        with pytest.raises(
            AINotConfigured, match="a written summary needs a model: set OPENAI_API_KEY"
        ):
            await ai.chat("summary", HELLO)


async def test_the_key_is_sent_only_as_the_credential_and_never_logged(
    service: SwarmService,
    server: LocalModel,
    sleep: RecordingSleep,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.queue(Step.fail(429), Step(text="ok"))
    settings = ai_settings(server)
    async with client(service, settings, sleep) as ai:
        await ai.chat("plan", [{"role": "user", "content": f"my key is {KEY}"}])
    assert all(r.sent_secret("Authorization", f"Bearer {KEY}") for r in server.requests)
    assert all(KEY not in r.text for r in server.requests)
    assert KEY not in caplog.text and KEY not in repr(settings)


def test_settings_from_the_environment() -> None:
    settings = AISettings.from_env(
        {
            "OPENAI_BASE_URL": "http://localhost:11434/v1/",
            "SWARM_MODEL_PLAN": "llama3.1",
            "SWARM_AI_TIMEOUT": "12.5",
            "SWARM_AI_RETRIES": "0",
            "SWARM_AI_BUDGET": "$5",
            "SWARM_AI_PRICES": "llama3.1=0/0, gpt-4o=3/12",
            "DISCORD_TOKEN": "discord-secret-x",
        }
    )
    assert settings.enabled and settings.base_url == "http://localhost:11434/v1"
    assert (settings.model_plan, settings.model_summary) == ("llama3.1", DEFAULT_MODEL)
    assert (settings.timeout_s, settings.retries, settings.budget_usd) == (12.5, 0, 5.0)
    assert settings.prices["gpt-4o"] == Price(3, 12)
    assert settings.price_for("gpt-4o-mini-2024-07-18") == Price(0.15, 0.60)
    assert settings.price_for("mystery") is None
    assert settings.secrets == ("discord-secret-x",)
    default = AISettings.from_env({})
    assert not default.enabled and default.budget_usd is None and default.retries == 2
    assert parse_prices('{"m": [1, 2.5]}') == {"m": Price(1, 2.5)}


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SWARM_AI_TIMEOUT": "soon"}, "SWARM_AI_TIMEOUT must be a number"),
        ({"SWARM_AI_RETRIES": "-1"}, "SWARM_AI_RETRIES must be between 0 and 10"),
        ({"SWARM_AI_BUDGET": "lots"}, "SWARM_AI_BUDGET must be US dollars per month"),
        ({"SWARM_AI_PRICES": "gpt-4o:3"}, "should look like model=input/output"),
        ({"SWARM_AI_PRICES": "{bad"}, "SWARM_AI_PRICES is not valid JSON"),
        ({"SWARM_AI_PRICES": '{"m": 3}'}, "needs \\[input, output\\]"),
        ({"SWARM_AI_PRICES": "m=a/b"}, "price of 'm' must be numbers"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AISettings.from_env(env)
