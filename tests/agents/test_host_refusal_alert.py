"""A host that refuses its agent's own processes again and again (hardening 5, item 2: "an
alert on repetition"): each refusal is an ``access.refused`` event and an audit row; one the
host counted more than once is a "Needs you" alert, cleared at the agent's next turn end.
On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, numbered, record, started
from tests.helpers import query

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]
WHY = "pid 4321 is a process of the agent this host runs"


async def alerts(service: SwarmService) -> list[str]:
    return [n.text for n in await service.inbox.needs() if n.kind == "alert"]


async def test_repeated_refusals_are_an_item_once_audited_each(service: SwarmService) -> None:
    _, delivery = await started(service)
    entries = numbered([
        {"type": "turn", "delivery": delivery, "chars": 2, "text": "go"},
        {"type": "refused", "op": "answer", "pid": 4321, "why": WHY, "times": 1},
    ])  # fmt: skip
    await record(service, entries)
    assert await alerts(service) == []  # once: an event and an audit row, no item
    await record(service, [*entries, {"seq": 3, "at": 1003.0, "type": "refused", "op": "answer",
                                      "pid": 4321, "why": WHY, "times": 5}])  # fmt: skip
    (item,) = await alerts(service)
    assert item.startswith(f"{AGENT}'s own processes keep calling its protocol host (answer")
    audited = query(service.settings, "SELECT command, allowed FROM audit")
    assert [tuple(row) for row in audited] == [("host answer", 0), ("host answer", 0)]
    await record(service, [{"seq": 4, "at": 1004.0, "type": "turn_end", "delivery": delivery,
                            "stop_reason": "end_turn"}])  # fmt: skip
    assert await alerts(service) == []
