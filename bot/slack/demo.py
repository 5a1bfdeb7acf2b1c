"""The demo's Slack (``swarm demo --front-end slack``): ``packages/localslack`` with a
channel, ``#swarm``, and one person, ``you``, swarm's admin there; the person's ``/swarm``
commands sent as its page sends them, the app's messages read back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from localslack import Channel, LocalSlackServer, User, page_url

from bot.slack import text as mrkdwn
from bot.slack.front_end import FRONT_END
from bot.slack.settings import SlackSettings


class SlackStage:
    """The local Slack as the demo drives it (``bot.demo_chat.ChatStage``)."""

    name = "Slack"
    posts_name = FRONT_END
    setup = "docs/slack.md (a Slack app with Socket Mode), then: swarm doctor"
    ready_says = "app ready, connected over Socket Mode"

    def __init__(self, server: LocalSlackServer, channel: Channel, you: User, url: str) -> None:
        self.server, self.channel, self.you, self.url = server, channel, you, url

    def settings(self) -> SlackSettings:
        """Slack pointed at the local server, its channel, ``you`` its admin."""
        return SlackSettings(
            bot_token=self.server.bot_token,
            app_token=self.server.app_token,
            channel_id=self.channel.id,
            admin_ids=frozenset({self.you.id}),
            api_url=self.server.api_url,
        )

    async def ready(self) -> None:
        """Until the app is connected over Socket Mode."""
        await self.server.wait_for(lambda: self.server.socket_mode.opened, within_s=30)

    async def command(self, name: str, text: str) -> tuple[str, str]:
        """``/swarm name text`` run by ``you``; the app's answer (its ack)."""
        sent = f"{name} {text}"
        acked = await self.server.command(self.you, self.channel, sent)
        return f"/swarm {sent}", mrkdwn.unescaped(str(acked.get("text", "")))

    def posts(self) -> list[tuple[str, str]]:
        """The app's top-level messages of the channel."""
        return [
            (m.ts, mrkdwn.unescaped(m.text))
            for m in self.server.top_level(self.channel)
            if m.user == self.server.bot.id
        ]


@contextlib.asynccontextmanager
async def slack_stage() -> AsyncIterator[SlackStage]:
    """A local Slack on a free port of 127.0.0.1, with no rate limits, while the block runs."""
    server = LocalSlackServer(team_name="swarm-demo", rate_limits=None)
    channel = server.add_channel("swarm")
    you = server.add_user("you")
    await server.start(0)
    try:
        yield SlackStage(server, channel, you, page_url(server, you, channel))
    finally:
        await server.close()
