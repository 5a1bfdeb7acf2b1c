"""``swarm run --local-slack``: the real Slack app (slack-bolt over Socket Mode) against a
Slack in this process, and a page to use it from a browser, before there is a Slack app.

The coordinator runs exactly as ``swarm run`` runs it; only its Slack settings are the local
server's (``packages/localslack``): a workspace with one channel, ``#swarm``, and one
person, ``you``, swarm's Slack admin. The page sends what the person types or presses to the
app as Slack would (Socket Mode envelopes). Nothing here calls swarm's services.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bot.run_stop import say
from bot.slack.settings import SlackSettings
from core.errors import ConfigError

if TYPE_CHECKING:
    from localslack import LocalSlackServer

DEFAULT_PORT = 8768  # beside the dashboard's 8765, local Discord's 8766, local Telegram's 8767
HOST = "127.0.0.1"
CHANNEL, PERSON = "swarm", "you"


@contextlib.asynccontextmanager
async def local_slack(
    configured: SlackSettings, port: int = DEFAULT_PORT
) -> AsyncIterator[SlackSettings]:
    """The local Slack on ``127.0.0.1:port`` (0: a free one) while the block runs; yields the
    settings pointing at it (``configured``'s notify level kept), its page's address said. A
    taken port or localslack not installed is a ConfigError, with nothing started."""
    try:
        from localslack import LocalSlackServer, page_url
    except ImportError:
        raise ConfigError(
            "--local-slack needs packages/localslack: pip install -e packages/localslack"
        ) from None
    server = LocalSlackServer(team_name="swarm (local)", host=HOST)
    channel = server.add_channel(CHANNEL)
    person = server.add_user(PERSON)
    await _start(server, port)  # its address is in the settings
    try:
        if configured.bot_token:
            say("SLACK_BOT_TOKEN is set but not used: the app connects to the local Slack")
        url = page_url(server, person, channel)
        say(f"local Slack: open {url} to use the app (no Slack app needed)")
        yield SlackSettings(
            bot_token=server.bot_token,
            app_token=server.app_token,
            channel_id=channel.id,
            admin_ids=frozenset({person.id}),
            api_url=server.api_url,
            notify=configured.notify,
        )
    finally:
        await server.close()


async def _start(server: LocalSlackServer, port: int) -> None:
    """Listen on ``port``; a taken one is a ConfigError of one line."""
    try:
        await server.start(port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ConfigError(
            f"cannot listen on {HOST}:{port} for the local Slack: {reason} "
            "(choose another port with --local-slack-port)"
        ) from None
