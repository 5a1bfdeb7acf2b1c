"""Is Slack reachable with the configured token? ``auth.test``, then the channel
(``conversations.info``: there, and the app in it), for ``swarm doctor``. The app-level
token is not tried: ``apps.connections.open`` (one a minute) would be taken from a running
coordinator's reconnects; ``swarm run`` says at start-up when Slack refuses it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.app import web_client
from bot.slack.settings import SlackSettings
from core.formats.text import one_line
from core.privacy.redact import redact_urls


@dataclass(frozen=True)
class Reach:
    """What the check found: ``ok`` and one line saying what answered or what failed."""

    ok: bool
    detail: str


async def reach(settings: SlackSettings, timeout_s: float) -> Reach:
    """Who the token is and whether the app is in the channel, at ``settings.api_url``; the
    token never appears in the answer."""
    where = redact_urls(settings.api_url)
    client = web_client(settings)
    try:
        async with asyncio.timeout(timeout_s):
            me = await client.auth_test()
            info = await client.conversations_info(channel=settings.channel_id or "")
    except TimeoutError:
        return Reach(False, f"{where} did not answer within {timeout_s:g} s")
    except SlackApiError as exc:
        error = one_line(str(exc.response.get("error", "")))
        return Reach(False, f"{where} answered {exc.response.status_code} {error}")
    except (SlackClientError, aiohttp.ClientError, OSError) as exc:
        return Reach(False, f"cannot reach {where}: {type(exc).__name__}")
    bot = one_line(f"{me.get('user')} in {me.get('team')}")
    channel = info["channel"]
    if not channel.get("is_member", True):
        return Reach(False, f"{bot}, but not in #{channel.get('name')}: /invite the app there")
    return Reach(True, one_line(f"{bot}; channel #{channel.get('name')}"))
