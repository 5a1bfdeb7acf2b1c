"""Issue 79, item 8, on Telegram: a daily budget held because its agent's usage cannot be
read is listed by ``/inbox`` as unknown, never as $0.00 spent."""

from __future__ import annotations

import pytest

from tests.costs.test_unknown_shown import held_by_unknown
from tests.telegram.conftest import World, bot_message, has

pytestmark = pytest.mark.timeout(60)


async def test_a_budget_of_unknown_spend_is_listed_unknown(world: World) -> None:
    ref = await held_by_unknown(world.service)
    await world.server.say(world.admin, world.chat, "/inbox")
    listing = await bot_message(world, has("item(s) need you"))
    assert ref in listing.text and "spent: unknown, of $5.00" in listing.text, listing.text
    assert "$0.00 " not in listing.text and "0 tokens" not in listing.text
