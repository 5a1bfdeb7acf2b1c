"""Issue 79, item 8, on Slack: a daily budget held because its agent's usage cannot be read
is listed by ``/swarm inbox`` as unknown, never as $0.00 spent."""

from __future__ import annotations

import json

import pytest

from tests.costs.test_unknown_shown import held_by_unknown
from tests.slack.conftest import World

pytestmark = pytest.mark.timeout(60)


async def test_a_budget_of_unknown_spend_is_listed_unknown(world: World) -> None:
    ref = await held_by_unknown(world.service)
    await world.server.command(world.admin, world.channel, "inbox")
    listing = await world.message_with("item(s) need you")
    shown = json.dumps(listing.blocks, ensure_ascii=False)  # each item a section block
    assert ref in shown and "spent: unknown, of $5.00" in shown, shown
    assert "$0.00 " not in shown and "0 tokens" not in shown
