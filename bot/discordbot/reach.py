"""Is Discord reachable with the configured token? One real login over discord.py's HTTP
client (``GET /users/@me``), then the guild and the channel, for ``swarm doctor``."""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass

import aiohttp

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop
    import discord
    from discord.http import HTTPClient, Route

from bot.discordbot.settings import DiscordSettings
from core.formats.text import one_line
from core.privacy.redact import redact_urls


@dataclass(frozen=True)
class Reach:
    """What the check found: ``ok`` and one line saying what answered or what failed."""

    ok: bool
    detail: str


async def reach(settings: DiscordSettings, timeout_s: float) -> Reach:
    """Log in with the token and look up the guild and the channel at ``settings.api_base``;
    the token never appears in the answer."""
    saved, Route.BASE = Route.BASE, settings.api_base  # discord.py's REST base: a class value
    http = HTTPClient(asyncio.get_running_loop())
    where = redact_urls(settings.api_base)
    try:
        async with asyncio.timeout(timeout_s):
            return await _look_up(http, settings)
    except discord.LoginFailure:
        return Reach(
            False,
            f"{where} refused DISCORD_TOKEN (401): reset the token in the "
            "developer portal and set it again",
        )
    except TimeoutError:
        return Reach(False, f"{where} did not answer within {timeout_s:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return Reach(False, f"cannot reach {where}: {type(exc).__name__}")
    except discord.HTTPException as exc:
        return Reach(False, f"{where} answered {exc.status} to the guild/channel lookup")
    finally:
        await http.close()
        Route.BASE = saved


async def _look_up(http: HTTPClient, settings: DiscordSettings) -> Reach:
    me = await http.static_login(settings.token or "")
    bot = one_line(f"logged in as {me['username']}")
    try:
        guild = await http.get_guild(settings.guild_id or 0, with_counts=False)
    except (discord.NotFound, discord.Forbidden) as exc:
        return Reach(
            False,
            f"{bot}, but guild {settings.guild_id} is not visible ({exc.status}"
            "): invite the bot to it (see docs/discord-setup.md)",
        )
    try:
        channel = await http.get_channel(settings.channel_id or 0)
    except (discord.NotFound, discord.Forbidden) as exc:
        return Reach(
            False,
            f"{bot}, but channel {settings.channel_id} is not visible "
            f"({exc.status}): check SWARM_CHANNEL_ID and the bot's permissions",
        )
    if str(channel.get("guild_id")) != str(settings.guild_id):
        return Reach(
            False, f"{bot}, but channel {settings.channel_id} is not in guild {settings.guild_id}"
        )
    return Reach(True, one_line(f"{bot}; guild {guild['name']!r}, channel #{channel.get('name')}"))
