"""Discord's rate limits: headers, 429s, buckets per channel, the global limit, sub-limits by
message age, and the real discord.py pacing itself and retrying against them."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
from localdiscord import Limit, LocalDiscordServer, RateLimits
from localdiscord.ratelimits import RateLimiter
from localdiscord.snowflake import DISCORD_EPOCH_MS
from scene import Scene

HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Reset-After",
    "X-RateLimit-Bucket",
)


@contextlib.asynccontextmanager
async def serving(limits: RateLimits) -> AsyncIterator[tuple[LocalDiscordServer, Any]]:
    """A server with two channels and these limits, and an HTTP session with the bot token."""
    async with LocalDiscordServer(rate_limits=limits) as server:
        server.add_text_channel("one")
        server.add_text_channel("two")
        headers = {"Authorization": f"Bot {server.token}"}
        async with aiohttp.ClientSession(base_url=server.url, headers=headers) as http:
            yield server, http


async def post(http: Any, channel_id: int, content: str) -> tuple[int, Any, Any]:
    """POST a message; the status, the headers and the JSON body."""
    async with http.post(
        f"/api/v10/channels/{channel_id}/messages", json={"content": content}
    ) as response:
        return response.status, response.headers, await response.json()


def snowflake_at(seconds_ago: float) -> int:
    """A snowflake dated ``seconds_ago``."""
    return (int((time.time() - seconds_ago) * 1000) - DISCORD_EPOCH_MS) << 22


async def test_message_creation_carries_discords_headers() -> None:
    async with serving(RateLimits(buckets={"message create": Limit(5, 30.0)})) as (server, http):
        one, two = server.guild.channels
        statuses, remaining, buckets = [], [], set()
        for n in range(3):
            status, headers, _ = await post(http, one.id, f"m{n}")
            statuses.append(status)
            assert all(name in headers for name in HEADERS), headers
            remaining.append(headers["X-RateLimit-Remaining"])
            buckets.add(headers["X-RateLimit-Bucket"])
            assert headers["X-RateLimit-Limit"] == "5" and headers["Via"]
            reset_after = float(headers["X-RateLimit-Reset-After"])
            assert 0 < reset_after <= 30
            assert abs(float(headers["X-RateLimit-Reset"]) - time.time() - reset_after) < 5
        _, headers, _ = await post(http, two.id, "elsewhere")
        buckets.add(headers["X-RateLimit-Bucket"])  # one bucket, counted per channel
        assert (statuses, remaining, headers["X-RateLimit-Remaining"]) == (
            [200, 200, 200],
            ["4", "3", "2"],
            "4",
        )
        assert len(buckets) == 1 and re.fullmatch(r"[0-9a-f]{32}", buckets.pop())
        async with http.get("/api/v10/users/@me") as response:  # no bucket: global only
            assert response.status == 200 and "X-RateLimit-Bucket" not in response.headers


async def test_a_request_over_the_limit_gets_429_and_does_nothing() -> None:
    async with serving(RateLimits(buckets={"message create": Limit(2, 1.0)})) as (server, http):
        one, two = server.guild.channels
        assert [(await post(http, one.id, f"m{n}"))[0] for n in range(2)] == [200, 200]
        status, headers, body = await post(http, one.id, "too many")
        assert status == 429
        assert body.keys() == {"message", "retry_after", "global"}
        assert body["global"] is False and 0 < body["retry_after"] <= 1.0
        assert headers["X-RateLimit-Scope"] == "user" and headers["X-RateLimit-Remaining"] == "0"
        assert int(headers["Retry-After"]) >= body["retry_after"]
        assert [m.content for m in server.messages(one)] == ["m0", "m1"]
        assert (await post(http, two.id, "another channel"))[0] == 200  # a bucket per channel
        await asyncio.sleep(body["retry_after"])
        assert (await post(http, one.id, "after the wait"))[0] == 200
        assert [m.content for m in server.messages(one)] == ["m0", "m1", "after the wait"]
        assert [r.status for r in server.rate_limited()] == [429]


async def test_the_global_limit_spares_interaction_endpoints() -> None:
    async with serving(RateLimits(global_limit=Limit(3, 30.0), buckets={})) as (server, http):
        for _ in range(3):
            async with http.get("/api/v10/users/@me") as response:
                assert response.status == 200
        async with http.get(f"/api/v10/channels/{server.guild.channels[0].id}") as response:
            body = await response.json()
            assert (response.status, body["global"]) == (429, True)
            assert response.headers["X-RateLimit-Global"] == "true"
            assert response.headers["X-RateLimit-Scope"] == "global"
            assert 0 < body["retry_after"] <= 30
        async with http.post("/api/v10/interactions/1/token/callback", json={"type": 4}) as answer:
            assert answer.status == 404  # an unknown interaction, not a 429
        hook = f"/api/v10/webhooks/{server.application_id}/token/messages/@original"
        async with http.get(hook) as answer:
            assert answer.status == 404


async def test_deleting_messages_is_sub_limited_by_their_age() -> None:
    async with serving(RateLimits()) as (server, http):
        channel = server.guild.channels[0].id
        _, _, fresh = await post(http, channel, "fresh")
        seen = {}
        for label, message_id in (
            ("fresh", fresh["id"]),
            ("a minute", snowflake_at(60)),
            ("three weeks", snowflake_at(21 * 24 * 3600)),
        ):
            async with http.delete(f"/api/v10/channels/{channel}/messages/{message_id}") as reply:
                seen[label] = (
                    reply.status,
                    reply.headers["X-RateLimit-Limit"],
                    reply.headers["X-RateLimit-Bucket"],
                )
        assert [(status, limit) for status, limit, _ in seen.values()] == [
            (204, "5"),
            (404, "3"),
            (404, "30"),
        ]
        assert len({bucket for _, _, bucket in seen.values()}) == 3


async def test_discord_py_waits_out_a_bucket_another_client_emptied(scene: Scene) -> None:
    server = scene.server
    server.set_rate_limits(RateLimits(buckets={"message create": Limit(3, 1.0)}))
    headers = {"Authorization": f"Bot {server.token}"}
    async with aiohttp.ClientSession(base_url=server.url, headers=headers) as http:
        assert [(await post(http, scene.general.id, f"other {n}"))[0] for n in range(3)] == [
            200,
            200,
            200,
        ]
    channel = scene.bot.get_channel(scene.general.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("from the bot")  # 429, waits retry_after, sent again: once
    path = f"/api/v10/channels/{scene.general.id}/messages"
    assert [r.status for r in server.requests if r.path == path][-2:] == [429, 200]
    contents = [m.content for m in server.messages(scene.general)]
    assert contents == ["other 0", "other 1", "other 2", "from the bot"]
    assert server.store.get(sent.id).content == "from the bot"


async def test_discord_py_retries_after_the_global_limit(scene: Scene) -> None:
    server = scene.server
    server.set_rate_limits(RateLimits(global_limit=Limit(4, 0.5), buckets={}))
    channels = [scene.bot.get_channel(c.id) for c in (scene.general, scene.reports)]
    sends = [
        channel.send(f"n{n}")  # type: ignore[union-attr]
        for n in range(6)
        for channel in channels
    ]
    await asyncio.gather(*sends)
    assert server.rate_limited()  # refused globally, and retried
    posted = [m.content for m in server.messages()]
    assert sorted(posted) == sorted(f"n{n}" for n in range(6) for _ in range(2))


def test_a_fresh_windows_reset_after_is_never_longer_than_the_window() -> None:
    """At a clock reading of 12.7, ``(12.7 + 30) - 12.7`` is 30.000000000000004: rounded up
    to the millisecond it read 30.001 (CI saw it), longer than the bucket's window."""
    limiter = RateLimiter(RateLimits(buckets={"message create": Limit(5, 30.0)}), lambda: 12.7)
    admission = limiter.admit("POST", "/channels/{channel_id}/messages", {"channel_id": "1"})
    assert admission.headers["X-RateLimit-Reset-After"] == "30.000"
