"""``swarm doctor``'s Slack line: the keys, the token and the channel against the local
Slack; nothing when no Slack key is set."""

from __future__ import annotations

import dataclasses

from localslack import LocalSlackServer

from bot.cli.doctor import _slack
from bot.cli.findings import OK, PROBLEM
from bot.config import Config
from bot.slack.settings import SlackSettings
from tests.slack.conftest import TEST_RATE_LIMITS, slack_settings
from tests.web.live import free_port


async def doctor_says(settings: SlackSettings) -> list[tuple[str, str]]:
    """The Slack findings of ``swarm doctor`` for ``settings``: (status, detail)."""
    return [(f.status, f.detail) for f in await _slack(Config({}, slack=settings), 5)]


async def test_doctor_says_what_slack_answers() -> None:
    assert await doctor_says(SlackSettings()) == []  # Slack not configured: no line
    partial = await doctor_says(SlackSettings(bot_token="xoxb-1"))
    assert partial == [(PROBLEM, partial[0][1])] and "SLACK_APP_TOKEN" in partial[0][1]
    async with LocalSlackServer(rate_limits=TEST_RATE_LIMITS) as server:
        channel, admin = server.add_channel("swarm"), server.add_user("boss")
        outside = server.add_channel("elsewhere", bot_member=False)
        good = slack_settings(server, channel, admin)
        assert await doctor_says(good) == [(OK, "swarm in localslack; channel #swarm")]
        revoked = dataclasses.replace(good, bot_token="xoxb-revoked")
        assert await doctor_says(revoked) == [
            (PROBLEM, f"{server.api_url} answered 200 invalid_auth")
        ]
        away = dataclasses.replace(good, channel_id=outside.id)
        assert await doctor_says(away) == [
            (PROBLEM, "swarm in localslack, but not in #elsewhere: /invite the app there")
        ]
    down = dataclasses.replace(good, api_url=f"http://127.0.0.1:{free_port()}/api/")
    ((status, detail),) = await doctor_says(down)
    assert status == PROBLEM and detail.startswith("cannot reach http://127.0.0.1:")
    assert "xoxb" not in detail
