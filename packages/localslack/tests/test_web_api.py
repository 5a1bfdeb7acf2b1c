"""The Web API methods through the real slack_sdk client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from localslack import Limit, LocalSlackServer, RateLimits
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient


@pytest.fixture
async def server() -> AsyncIterator[LocalSlackServer]:
    async with LocalSlackServer(rate_limits=None) as srv:
        srv.add_channel("swarm")
        srv.add_channel("elsewhere", bot_member=False)
        yield srv


def client_of(server: LocalSlackServer, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token or server.bot_token, base_url=server.api_url)


async def test_auth_test_names_the_bot(server: LocalSlackServer) -> None:
    answer = await client_of(server).auth_test()
    assert answer["user_id"] == server.bot.id
    assert answer["bot_id"] == server.bot.bot_id


async def test_a_wrong_or_revoked_token_is_invalid_auth(server: LocalSlackServer) -> None:
    with pytest.raises(SlackApiError) as wrong:
        await client_of(server, "xoxb-wrong").auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    server.revoked = True
    with pytest.raises(SlackApiError) as revoked:
        await client_of(server).auth_test()
    assert revoked.value.response["error"] == "invalid_auth"


async def test_a_message_its_thread_and_its_update(server: LocalSlackServer) -> None:
    channel = next(iter(server.channels.values()))
    client = client_of(server)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*T-1* write"}}]
    posted = await client.chat_postMessage(channel=channel.id, text="T-1 write", blocks=blocks)
    reply = await client.chat_postMessage(channel=channel.id, text="a note", thread_ts=posted["ts"])
    await client.chat_update(channel=channel.id, ts=posted["ts"], text="T-1 done", blocks=[])
    (card,) = server.top_level(channel)
    assert (card.text, card.edits, card.blocks) == ("T-1 done", 1, [])
    assert [m.ts for m in server.replies(channel, posted["ts"])] == [reply["ts"]]


async def test_errors_are_slacks(server: LocalSlackServer) -> None:
    swarm, elsewhere = server.channels.values()
    client = client_of(server)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    cases: list[tuple[Callable[[], Awaitable[object]], str]] = [
        (lambda: client.chat_postMessage(channel="C404", text="x"), "channel_not_found"),
        (lambda: client.chat_postMessage(channel=elsewhere.id, text="x"), "not_in_channel"),
        (
            lambda: client.chat_update(channel=swarm.id, ts="1.000001", text="x"),
            "message_not_found",
        ),
        (lambda: client.chat_postMessage(channel=swarm.id, text="x" * 40_001), "msg_too_long"),
        (
            lambda: client.chat_postMessage(channel=swarm.id, text="x", blocks=[section]),
            "invalid_blocks",
        ),
    ]
    for call, error in cases:
        with pytest.raises(SlackApiError) as refused:
            await call()
        assert refused.value.response["error"] == error
    assert server.top_level(swarm) == []


async def test_ephemeral_and_conversations_info(server: LocalSlackServer) -> None:
    channel = next(iter(server.channels.values()))
    alice = server.add_user("alice")
    client = client_of(server)
    await client.chat_postEphemeral(channel=channel.id, user=alice.id, text="only you")
    info = await client.conversations_info(channel=channel.id)
    assert [e.text for e in server.seen_by(alice)] == ["only you"]
    assert info["channel"]["is_member"] is True


async def test_429_with_retry_after_then_passes() -> None:
    limits = RateLimits({"chat.postMessage": Limit(1, 1.0)})
    async with LocalSlackServer(rate_limits=limits) as server:
        channel = server.add_channel("swarm")
        plain = client_of(server)
        await plain.chat_postMessage(channel=channel.id, text="first")
        with pytest.raises(SlackApiError) as limited:
            await plain.chat_postMessage(channel=channel.id, text="refused")
        assert limited.value.response.status_code == 429
        assert limited.value.response.headers["Retry-After"] in ("1", ["1"])
        waiting = client_of(server)
        waiting.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        await waiting.chat_postMessage(channel=channel.id, text="second")
        assert [m.text for m in server.top_level(channel)] == ["first", "second"]
        assert [c.status for c in server.calls_to("chat.postMessage")] == [200, 429, 429, 200]
