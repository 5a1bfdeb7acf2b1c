"""A local Slack for tests and trying a Slack app without a workspace: the Web API methods a
bot uses and Socket Mode, served on 127.0.0.1 by aiohttp, that the real slack_sdk and
slack-bolt clients talk to unchanged (``AsyncWebClient(base_url=server.api_url)``).

Typical use::

    async with LocalSlackServer() as server:
        channel = server.add_channel("swarm")
        alice = server.add_user("alice")
        ...  # start the app with server.bot_token, server.app_token, server.api_url
        await server.command(alice, channel, "task write the docs")
        await server.wait_for(lambda: server.top_level(channel))
"""

from localslack.api import RecordedCall, SlackError
from localslack.limits import SLACK_RATE_LIMITS, Limit, RateLimits
from localslack.page import page_url
from localslack.server import LocalSlackServer
from localslack.socket_mode import NotAcked, NotConnected
from localslack.world import Channel, Ephemeral, Message, User

__all__ = [
    "SLACK_RATE_LIMITS",
    "Channel",
    "Ephemeral",
    "Limit",
    "LocalSlackServer",
    "Message",
    "NotAcked",
    "NotConnected",
    "RateLimits",
    "RecordedCall",
    "SlackError",
    "User",
    "page_url",
]
