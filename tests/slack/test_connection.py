"""The app's start: a refused token or a channel it is not in stops ``swarm run`` with one
line; Slack out of reach is waited for, the coordinator going on."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from localslack import LocalSlackServer

from bot.slack.app import keep_connected
from core.errors import ConfigError
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.slack.conftest import TEST_RATE_LIMITS, slack_settings
from tests.web.live import free_port

pytestmark = pytest.mark.timeout(60)


async def test_a_refused_token_or_channel_is_one_line(service: SwarmService) -> None:
    async with LocalSlackServer(rate_limits=TEST_RATE_LIMITS) as server:
        channel, admin = server.add_channel("swarm"), server.add_user("boss")
        outside = server.add_channel("elsewhere", bot_member=False)
        settings = slack_settings(server, channel, admin)
        cases = [
            (dataclasses.replace(settings, bot_token="xoxb-revoked"), "refused SLACK_BOT_TOKEN"),
            (dataclasses.replace(settings, channel_id="C404"), "C404: channel_not_found"),
            (dataclasses.replace(settings, channel_id=outside.id), "the app is not in it"),
            (dataclasses.replace(settings, app_token="xapp-revoked"), "refused SLACK_APP_TOKEN"),
        ]
        for bad, said in cases:
            with pytest.raises(ConfigError, match=said):
                await keep_connected(service, bad, asyncio.Event())
        assert server.top_level(channel) == []


async def test_slack_out_of_reach_is_waited_for_and_caught_up(service: SwarmService) -> None:
    port = free_port()
    server = LocalSlackServer(rate_limits=TEST_RATE_LIMITS)  # started later
    channel, admin = server.add_channel("swarm"), server.add_user("boss")
    settings = dataclasses.replace(
        slack_settings(server, channel, admin),
        api_url=f"http://127.0.0.1:{port}/api/",
        reconnect_first_s=0.2,
        reconnect_max_s=0.4,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(keep_connected(service, settings, stop))
    try:
        await asyncio.sleep(1.0)
        assert not running.done()  # still trying, not stopped
        await service.tasks.create(TaskSpec("made while Slack was away"), "cli")
        await server.start(port)
        await server.wait_for(lambda: server.top_level(channel))
        (card,) = server.top_level(channel)
        assert "made while Slack was away" in card.text
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)
        await server.close()
