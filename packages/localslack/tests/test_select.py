"""Block Kit's ``static_select`` (a menu of options): a message or an ephemeral one carrying
it is accepted within Slack's limits, refused past them (``invalid_blocks``); a person's
pick, from the test's ``choose`` or the page, reaches the app as Slack sends it
(``block_actions`` with ``selected_option``; an ephemeral one with no ``message``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from localslack import LocalSlackServer
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

pytestmark = pytest.mark.timeout(30)


def menu(options: list[str], option_text: str | None = None) -> list[dict[str, Any]]:
    """An actions block holding one select menu of ``options``."""
    return [
        {
            "type": "actions",
            "block_id": "A-1",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "pick:A-1",
                    "placeholder": {"type": "plain_text", "text": "agent"},
                    "options": [
                        {"text": {"type": "plain_text", "text": option_text or o}, "value": o}
                        for o in options
                    ],
                }
            ],
        }
    ]


@pytest.fixture
async def rig() -> AsyncIterator[tuple[LocalSlackServer, AsyncWebClient, list[dict[str, Any]]]]:
    """The server, a bot client, and the ``block_actions`` payloads the app got."""
    async with LocalSlackServer(rate_limits=None) as server:
        client = AsyncWebClient(token=server.bot_token, base_url=server.api_url)
        app = AsyncApp(client=client, request_verification_enabled=False)
        picked: list[dict[str, Any]] = []

        @app.action("pick:A-1")
        async def chosen(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            picked.append(body)

        handler = AsyncSocketModeHandler(app, server.app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        try:
            await asyncio.wait_for(server.socket_mode.connected.wait(), 5)
            yield server, client, picked
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]


async def test_a_pick_in_a_channel_message_reaches_the_app(rig: Any) -> None:
    server, client, picked = rig
    channel, you = server.add_channel("swarm"), server.add_user("you")
    await client.chat_postMessage(channel=channel.id, text="to whom?", blocks=menu(["a", "b"]))
    (message,) = server.top_level(channel)
    assert [o["value"] for o in message.selects()[0]["options"]] == ["a", "b"]
    with pytest.raises(KeyError, match="no option"):
        await server.choose(you, message, "pick:A-1", "c")
    await server.choose(you, message, "pick:A-1", "b")
    await server.wait_for(lambda: picked)
    (action,) = picked[0]["actions"]
    assert (action["type"], action["block_id"]) == ("static_select", "A-1")
    assert action["selected_option"]["value"] == "b"
    assert picked[0]["message"]["ts"] == message.ts
    assert picked[0]["user"]["id"] == you.id


async def test_a_pick_in_an_ephemeral_message_from_the_page(rig: Any) -> None:
    server, client, picked = rig
    channel, you = server.add_channel("swarm"), server.add_user("you")
    await client.chat_postEphemeral(
        channel=channel.id, user=you.id, text="to whom?", blocks=menu(["a", "b"])
    )
    (shown,) = server.seen_by(you)
    who = {"user": you.id, "channel": channel.id}
    async with aiohttp.ClientSession() as http:
        body = who | {"ts": shown.ts, "action_id": "pick:A-1", "value": "a"}
        async with http.post(f"{server.url}/local/choose", json=body) as sent:
            assert sent.status == 200
        async with http.post(f"{server.url}/local/choose", json=body | {"ts": "1.2"}) as lost:
            assert lost.status == 404
    await server.wait_for(lambda: picked)
    assert picked[0]["container"]["is_ephemeral"] is True
    assert "message" not in picked[0]  # Slack sends none for an ephemeral message
    assert picked[0]["actions"][0]["selected_option"]["value"] == "a"


@pytest.mark.parametrize(
    "blocks",
    [
        menu([]),  # no option
        menu([str(i) for i in range(101)]),  # past 100
        menu(["a"], option_text="x" * 76),  # an option's text past 75
        menu(["v" * 151]),  # a value past 150
    ],
)
async def test_a_menu_past_slacks_limits_is_refused(rig: Any, blocks: list[Any]) -> None:
    server, client, _ = rig
    channel = server.add_channel("swarm")
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_postMessage(channel=channel.id, text="to whom?", blocks=blocks)
    assert server.top_level(channel) == []
