"""A node's delivered receipts (``claim_queries.mark_delivered``: one statement over a JSON
list of deliveries and one of their events) mark each delivery delivered with its method and
write its events, hostile text included; none, one or several at once (PostgreSQL: delivery
nodes run there alone)."""

from __future__ import annotations

import pytest

from core.delivery import _node_claims as node_claims
from core.delivery._node_claims import Claimer
from core.models import ClaimOutcome, Receipt
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.helpers import query

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]

HOSTILE = 'it\'s 100% \\ ["x"] {"a": 1} ünïcødé 🚀 \' -- ;'
AGENTS = ["Agent-1", "Agent-2", "Agent-3"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("count", [0, 1, 3])
async def test_receipts_delivered_together_keep_each_method_and_event(
    service: SwarmService, clock: ManualClock, count: int
) -> None:
    for agent in AGENTS[:count]:
        await service.messages.send(agent, f"to {agent}: {HOSTILE}", "cli")
    claimer = Claimer(f"desk:{HOSTILE}", "run-a")
    held = await service.store.write_concurrent(
        node_claims.claim, claimer, AGENTS[:count], clock.now(), 30.0, 8
    )
    assert len(held) == count
    done = [(h, Receipt.delivered(f"{HOSTILE} {h.delivery.agent}"), False) for h in held]
    outcomes = await service.store.write(
        "desk", node_claims.finish, claimer, done, service.queue.on_failed_prompt
    )
    assert outcomes == [ClaimOutcome.delivered] * count
    rows = query(service.settings, "SELECT agent_id, state, method FROM deliveries ORDER BY id")
    assert rows == [(a, "delivered", f"{HOSTILE} {a}") for a in AGENTS[:count]]
    delivered = [e for e in await service.history.events() if e.kind == "delivery.delivered"]
    assert sorted(str(e.agent) for e in delivered) == AGENTS[:count]
    assert all(HOSTILE in e.text for e in delivered)
