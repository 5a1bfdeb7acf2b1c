"""The page a person uses: it shows the channel (as text, never as markup) and what it sends
reaches the app as a person's message, press or command would."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from localslack import LocalSlackServer, page_url
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def test_the_page_shows_the_channel_and_sends_what_the_person_does() -> None:
    async with LocalSlackServer(rate_limits=None) as server:
        channel, you = server.add_channel("swarm"), server.add_user("you")
        client = AsyncWebClient(token=server.bot_token, base_url=server.api_url)
        app = AsyncApp(client=client, request_verification_enabled=False)
        said: list[str] = []

        @app.event("message")
        async def message(event: dict[str, Any]) -> None:
            said.append(event["text"])

        @app.command("/swarm")
        async def command(ack: Any, command: dict[str, Any]) -> None:
            await ack(f"ran {command['text']}")

        handler = AsyncSocketModeHandler(app, server.app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        try:
            await asyncio.wait_for(server.socket_mode.connected.wait(), 5)
            await client.chat_postMessage(channel=channel.id, text="<b>hi</b> &amp;")
            who = {"user": you.id, "channel": channel.id}
            async with aiohttp.ClientSession() as http:
                async with http.get(page_url(server, you, channel)) as page:
                    assert (
                        "textContent" in await page.text() and "innerHTML" not in await page.text()
                    )
                for what, body in (("say", {"text": "hello"}), ("command", {"text": "inbox"})):
                    async with http.post(f"{server.url}/local/{what}", json=who | body) as sent:
                        assert sent.status == 200
                async with http.get(f"{server.url}/local/state", params=who) as state:
                    shown = await state.json()
            await server.wait_for(lambda: said == ["hello"])
            assert [m["text"] for m in shown["messages"]] == ["<b>hi</b> &amp;", "hello"]
            (ephemeral,) = shown["ephemerals"]
            assert (ephemeral["text"], ephemeral["blocks"], ephemeral["ephemeral"]) == (
                "ran inbox",
                [],
                True,
            )
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]
