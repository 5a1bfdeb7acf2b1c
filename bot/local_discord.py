"""``swarm run --local-discord``: the real bot against a Discord in this process, and a page
to use it from a browser, before there is a Discord application.

The coordinator runs exactly as ``swarm run`` runs it (the user's home, agents file,
delivery, dashboard); only its Discord settings are the local server's: a guild with one
channel, ``#swarm``, and one member, ``you``, its owner and swarm's admin. The server is
``packages/localdiscord``, which speaks Discord's REST API and gateway, so the discord.py bot
is the one that runs against discord.com, unchanged; the page is that server's web client,
which sends what a person types or clicks to the bot as Discord's client would
(``INTERACTION_CREATE``). Nothing here calls swarm's services.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import warnings
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bot.run_stop import say
from core.errors import ConfigError
from core.privacy import files

if TYPE_CHECKING:
    from localdiscord import LocalDiscordServer, WebClient

    from bot.app import Builder
    from bot.discordbot.settings import DiscordSettings

log = logging.getLogger(__name__)
DEFAULT_PORT = 8766  # beside the dashboard's 8765
HOST = "127.0.0.1"
GUILD, CHANNEL, PERSON = "swarm (local)", "swarm", "you"
RUNNING_FILE = "local-discord.json"  # in the home while it runs: its pid and address (doctor)


@contextlib.asynccontextmanager
async def local_discord(builder: Builder, port: int = DEFAULT_PORT) -> AsyncIterator[WebClient]:
    """The local Discord on ``127.0.0.1:port`` (0: a free one) while the block runs, with
    ``builder`` pointed at it (its Discord settings and discord.py's URLs) and the home's
    lock held (SQLite); yields the page. A taken port, a bad setting or a coordinator
    already running on the home is a ConfigError, with nothing started."""
    from bot.demo import quiet_voice_warning, require_localdiscord

    require_localdiscord("--local-discord")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop
        import discord  # noqa: F401
    from localdiscord import LocalDiscordServer, local_client_options, pointed_at

    quiet_voice_warning()
    configured = _configured_token(builder)
    server = LocalDiscordServer(guild_name=GUILD, token=secrets.token_urlsafe(32), host=HOST)
    channel = server.add_text_channel(CHANNEL)
    person = server.add_user(PERSON, owner=True)
    page = server.open_web_client(person, channel)
    builder.config = builder.config.replace(discord=_settings(builder, server, person.id))
    builder.client_options = {**builder.client_options, **local_client_options()}
    with builder.home_lock():  # a bad setting, or a coordinator already running: said first
        await _start(server, port)
        said = builder.config.core.home / RUNNING_FILE
        files.write_file(said, json.dumps({"pid": os.getpid(), "url": server.url}).encode())
        try:
            if configured:
                say("DISCORD_TOKEN is set but not used: the bot connects to the local Discord")
            say(f"local Discord: open {page.url} to use the bot (no Discord application needed)")
            with pointed_at(server):
                yield page
        finally:
            said.unlink(missing_ok=True)
            await server.close()


async def _start(server: LocalDiscordServer, port: int) -> None:
    """Listen on ``port``; a taken one is a ConfigError of one line."""
    try:
        await server.start(port)
    except OSError as exc:  # asyncio's strerror repeats the address: the errno's text
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ConfigError(
            f"cannot listen on {HOST}:{port} for the local Discord: {reason} "
            "(choose another port with --local-discord-port)"
        ) from None


def _configured_token(builder: Builder) -> bool:
    """Whether a Discord token is configured (a bad Discord setting: not used here)."""
    try:
        return bool(builder.config.discord.token)
    except ConfigError:
        return False


def _settings(builder: Builder, server: LocalDiscordServer, person: int) -> DiscordSettings:
    """The local guild's settings; the configured notification level is kept."""
    from bot.discordbot.settings import DiscordSettings

    try:
        notify = builder.config.discord.notify
    except ConfigError:
        notify = "normal"
    return DiscordSettings(
        token=server.token,
        guild_id=server.guild.id,
        channel_id=server.guild.channels[0].id,
        admin_ids=frozenset({person}),
        notify=notify,
    )
