"""The Slack app: slack-bolt over Socket Mode (no public address), its listeners (buttons,
thread replies, ``/swarm``), and the notifier posting to the channel, until stopped.

A bad token or a channel the app cannot see stops the coordinator with one line (a
ConfigError); Slack out of reach is a warning and a wait that doubles, the coordinator
scheduling meanwhile, the posts catching up from the notifier's cursors once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import actions, commands
from bot.slack.context import Slack
from bot.slack.front_end import SlackFrontEnd, describe
from bot.slack.settings import SlackSettings
from core.coordinator.notifier import Notifier
from core.errors import ConfigError
from core.posts.notify import NotifyLevel
from core.service.swarm import SwarmService
from core.waits import Background, ErrorBackoff, wait_set, within

log = logging.getLogger(__name__)
RATE_LIMIT_RETRIES = 5  # 429s waited for (Retry-After) before a request fails for now
SWARM_ACTION = re.compile(r"^swarm:")  # every button of swarm's (bot.slack.render.button)
REFUSED_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


def web_client(settings: SlackSettings) -> AsyncWebClient:
    """The Web API client: a lost connection tried again, a 429 waited for."""
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


class SlackBot:
    """The app's listeners and notifier over one service."""

    def __init__(self, service: SwarmService, settings: SlackSettings, poll_s: float = 0.5) -> None:
        self.settings = settings
        self.client = web_client(settings)
        self.slack = Slack(service, settings, self.client)
        self.front = SlackFrontEnd(self.client, settings.channel_id or "")
        level = NotifyLevel(settings.notify)
        self.notifier = Notifier(service, self.front, level, poll_s)
        self.app = self._app()

    def _app(self) -> AsyncApp:
        app = AsyncApp(
            client=self.client,  # its token is the bot's
            signing_secret="socket-mode",  # Socket Mode requests are not signed
            request_verification_enabled=False,
            logger=logging.getLogger("slack_bolt"),
        )
        slack = self.slack

        @app.action(SWARM_ACTION)
        async def pressed(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            await actions.pressed(slack, body)

        @app.command("/swarm")
        async def command(ack: Any, command: dict[str, Any]) -> None:
            await ack(**(await commands.answer(slack, command)).ack())

        @app.event("message")
        async def message(event: dict[str, Any]) -> None:
            await actions.replied(slack, event)

        return app

    async def check(self) -> None:
        """The token and the channel, before anything is posted: ConfigError when refused."""
        try:
            await self.client.auth_test()
            info = await self.client.conversations_info(channel=self.settings.channel_id or "")
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in REFUSED_TOKEN:
                raise ConfigError(
                    f"Slack refused SLACK_BOT_TOKEN ({error}): set it again"
                ) from None
            if exc.response.status_code < 500 and exc.response.status_code != 429:
                raise ConfigError(
                    f"SWARM_SLACK_CHANNEL_ID {self.settings.channel_id}: {error} "
                    "(invite the app to the channel: /invite @swarm)"
                ) from None
            raise
        if not info["channel"].get("is_member", True):
            raise ConfigError(
                f"SWARM_SLACK_CHANNEL_ID {self.settings.channel_id}: the app is not in it "
                "(invite it: /invite @swarm)"
            )

    async def serve(self, stop: asyncio.Event) -> None:
        """Connect over Socket Mode and post until ``stop`` is set."""
        await self.check()
        handler = AsyncSocketModeHandler(self.app, self.settings.app_token)
        try:
            await self._connect(handler)
            await self._post_until(stop)
        finally:
            await handler.close_async()

    async def _connect(self, handler: AsyncSocketModeHandler) -> None:
        """The first address is asked here (slack_sdk's own connect would retry a refused
        app token for ever), then the connection opened."""
        try:
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
        except SlackApiError as exc:
            if str(exc.response.get("error", "")) in REFUSED_TOKEN:
                raise ConfigError("Slack refused SLACK_APP_TOKEN: make a new one") from None
            raise
        await handler.connect_async()

    async def _post_until(self, stop: asyncio.Event) -> None:
        """The notifier until ``stop`` (its message in flight finished, bounded); what ended
        it otherwise is raised."""
        tasks = Background("Slack")  # the notifier (its result read below), the stop's wait
        notifier = tasks.start(self.notifier.run(), name="slack-notifier", awaited=True)
        stopped = tasks.start(stop.wait(), name="slack-stop")
        try:
            await asyncio.wait({notifier, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            self.notifier.stop()
            try:
                await within(asyncio.shield(notifier), 5)
            except (TimeoutError, asyncio.CancelledError):
                notifier.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await notifier
        notifier.result()


async def keep_connected(
    service: SwarmService, settings: SlackSettings, stop: asyncio.Event
) -> None:
    """Run the app until ``stop``; Slack out of reach (or the app failing): a warning and a
    growing wait, the coordinator scheduling meanwhile; a refused token or channel:
    ConfigError, which stops ``swarm run``."""
    backoff = ErrorBackoff(settings.reconnect_first_s, settings.reconnect_max_s)
    while not stop.is_set():
        try:
            await SlackBot(service, settings).serve(stop)
            return
        except ConfigError:
            raise
        except Exception as exc:  # Slack down, or the app's own failure: never the coordinator
            delay = backoff.failed()
            log.warning(
                "Slack unreachable (%s): attempt %d failed, next in %.1f s; the coordinator "
                "keeps scheduling",
                describe(exc),
                backoff.failures,
                delay,
            )
            await wait_set(stop, delay)
