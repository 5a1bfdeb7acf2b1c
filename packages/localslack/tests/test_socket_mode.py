"""Socket Mode through the real slack-bolt app and slack_sdk's aiohttp Socket Mode client:
events, button presses and slash commands reach the app and are acked; ``disconnect`` makes
it connect again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from localslack import LocalSlackServer, RateLimits
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


@dataclass
class Seen:
    """What the app received."""

    messages: list[str] = field(default_factory=list)
    pressed: list[tuple[str, str]] = field(default_factory=list)


def sample_app(server: LocalSlackServer, seen: Seen) -> AsyncApp:
    client = AsyncWebClient(token=server.bot_token, base_url=server.api_url)
    app = AsyncApp(token=server.bot_token, client=client, request_verification_enabled=False)

    @app.event("message")
    async def message(event: dict[str, Any]) -> None:
        seen.messages.append(event["text"])

    @app.action("press")
    async def press(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.pressed.append((body["user"]["id"], body["actions"][0]["value"]))

    @app.command("/swarm")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        await ack(f"you said {command['text']}")

    return app


@pytest.fixture
async def server() -> AsyncIterator[LocalSlackServer]:
    async with LocalSlackServer(rate_limits=RateLimits().scaled(0.01)) as srv:
        srv.add_channel("swarm")
        yield srv


@pytest.fixture
async def seen(server: LocalSlackServer) -> AsyncIterator[Seen]:
    seen = Seen()
    handler = AsyncSocketModeHandler(sample_app(server, seen), server.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await asyncio.wait_for(server.socket_mode.connected.wait(), 5)
        yield seen
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def test_a_message_event_reaches_the_app(server: LocalSlackServer, seen: Seen) -> None:
    channel = next(iter(server.channels.values()))
    await server.say(server.add_user("alice"), channel, "hello <@U1>")
    await server.wait_for(lambda: seen.messages)
    assert seen.messages == ["hello <@U1>"]


async def test_a_button_press_is_acked_and_handled(server: LocalSlackServer, seen: Seen) -> None:
    channel = next(iter(server.channels.values()))
    client = AsyncWebClient(token=server.bot_token, base_url=server.api_url)
    button = {
        "type": "button",
        "action_id": "press",
        "value": "R-7:0",
        "text": {"type": "plain_text", "text": "Allow"},
    }
    await client.chat_postMessage(
        channel=channel.id, text="R-7", blocks=[{"type": "actions", "elements": [button]}]
    )
    alice = server.add_user("alice")
    (message,) = server.top_level(channel)
    assert await server.press(alice, message, "press") == {}
    await server.wait_for(lambda: seen.pressed)
    assert seen.pressed == [(alice.id, "R-7:0")]


async def test_a_slash_commands_answer_is_shown_to_its_user(
    server: LocalSlackServer, seen: Seen
) -> None:
    channel = next(iter(server.channels.values()))
    alice = server.add_user("alice")
    answer = await server.command(alice, channel, "inbox")
    assert answer["text"] == "you said inbox"
    assert [e.text for e in server.seen_by(alice)] == ["you said inbox"]


async def test_disconnect_makes_the_app_connect_again(server: LocalSlackServer, seen: Seen) -> None:
    await server.socket_mode.disconnect()
    await server.wait_for(
        lambda: server.socket_mode.opened == 2 and server.socket_mode.connected.is_set()
    )
    channel = next(iter(server.channels.values()))
    await server.say(server.add_user("bob"), channel, "still there?")
    await server.wait_for(lambda: seen.messages == ["still there?"])
