"""Slack beside Discord on one service: a permission request decided by a press on Discord
shows decided on Slack, who chose what, its buttons gone (the notifier's loop of each front
end follows the same decision)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop
    import discord  # noqa: F401

import pytest
from localdiscord import LocalDiscordServer, running_client

from core.service.swarm import SwarmService
from tests.discord.conftest import TEST_RATE_LIMITS as DISCORD_LIMITS
from tests.discord.conftest import builder_for
from tests.discord.test_notifier import edited_to, has
from tests.slack.conftest import World, buttons, showing
from tests.slack.test_decisions import open_prompt

pytestmark = pytest.mark.timeout(60)


async def test_a_prompt_decided_on_discord_shows_decided_on_slack(
    world: World, service: SwarmService
) -> None:
    async with LocalDiscordServer(guild_name="t", rate_limits=DISCORD_LIMITS) as discord_:
        channel = discord_.add_text_channel("swarm")
        boss = discord_.add_user("boss")  # the Discord admin (tests.discord.conftest)
        discord_.add_user("dev", roles=[discord_.add_role("operators")])
        builder = builder_for(discord_, service)
        async with builder.ai(service) as ai, running_client(discord_, builder.bot(service, ai)):
            prompt_id = await open_prompt(service, "Push to main?")
            ref = f"R-{prompt_id}"
            on_slack = await world.message_with(f"{ref} ·")
            on_discord = await discord_.wait_for_message(has(ref), channel=channel)
            assert len(buttons(on_slack)) == 3
            pressed = await discord_.click_button(boss, on_discord, f"swarm:prompt:{prompt_id}:2")
            await pressed.wait_callback()
            await edited_to(discord_, on_discord, "chosen by discord:boss")
            await world.server.wait_for(showing(on_slack, "'No' chosen by discord:boss"))
            assert buttons(on_slack) == []
