"""Every time swarm formats is shown for any value: huge, negative, infinite, NaN (issue 40).
Before, ``time.localtime`` / ``datetime.fromtimestamp`` raised on such a value, and a usage
limit's reset from an agent's pane was one: every formatter below raised."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest

from bot.cli.format import status_text
from bot.discordbot.embeds import status_embed
from core.agents._judge import clock_time, duration
from core.formats.jsonshape import iso_utc, shaped
from core.reservations import Reservation

HOSTILE = [8.64e24, 1e300, math.inf, -math.inf, math.nan, -1e300, -1.0, 2**63, 1e18]


@pytest.mark.parametrize("ts", HOSTILE, ids=repr)
def test_every_formatter_shows_any_value(ts: float) -> None:
    assert len(clock_time(ts)) == 8
    assert iso_utc(ts).endswith("Z")
    assert duration(ts).endswith(("s", "m"))
    overview: dict[str, Any] = {
        "tasks": {}, "deliveries": {}, "input_paused": None, "agents": [],
        "limited": {"agents": [{"agent": "A", "until": ts}], "all": True, "until": ts},
    }  # fmt: skip
    assert "every agent is limited until" in status_text(overview)
    assert "<t:" in str(status_embed(overview).fields[3].value)
    json.dumps(shaped({"until": ts, "data": {"until": ts}}), allow_nan=False)
    assert "until" in Reservation(1, "A", None, "src/**", True, ts, ts).held_for()


def test_out_of_range_times_show_as_the_nearest_time_that_can_be_shown() -> None:
    from bot.discordbot.embeds import discord_time

    assert iso_utc(math.inf) == iso_utc(1e300) == "9999-12-30T00:00:00Z"
    assert iso_utc(-1e300) == iso_utc(math.nan) == "1970-01-01T00:00:00Z"
    assert iso_utc(1_800_000_000) == "2027-01-15T08:00:00Z"  # ordinary times as before
    assert discord_time(math.inf) == "<t:253402128000:f>"


def test_a_time_more_than_a_day_away_shows_its_date() -> None:
    """Item 9: a limit of 3 days read "until 17:08:22", the day unsaid."""
    from bot.discordbot.embeds import discord_time
    from core.agents._judge import until_text

    now = 1_800_000_000.0
    assert until_text(now + 3600, now) == clock_time(now + 3600)
    soon, later = until_text(now + 3 * 86400, now), time.localtime(now + 3 * 86400)
    assert soon == time.strftime("%Y-%m-%d %H:%M:%S", later)
    assert discord_time(now + 3600, now).endswith(":t>")
    assert discord_time(now + 3 * 86400, now).endswith(":f>")
