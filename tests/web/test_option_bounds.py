"""Issue 66, item 8: whatever an agent's request carries, the dashboard's pages stay small
(before: one 10 MB option label made ``/``, ``/inbox`` and ``/inbox/panel`` 21 MB each), and
their buttons show the agent's labels, never swarm's option keys (issue 64)."""

from __future__ import annotations

import httpx
import pytest

from core.service.swarm import SwarmService
from tests.agents.protocol_journal import record, started
from tests.dialogs.test_request_bounds import asks
from tests.web.test_pages import login

pytestmark = pytest.mark.both_databases


async def test_a_10_mb_label_leaves_every_page_small_and_buttons_show_labels(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    await login(client, admin_token)
    await started(service)
    options = [{"id": "proceed_once", "name": "y" * 10_000_000, "kind": "allow_once"},
               {"id": "cancel", "name": "Reject", "kind": "reject_once"}]  # fmt: skip
    await record(service, [asks(1, options)])
    for path in ("/", "/inbox", "/inbox/panel", "/api/v1/inbox"):
        page = await client.get(path)
        assert page.status_code == 200 and len(page.content) < 200_000, path
    panel = (await client.get("/inbox/panel")).text
    assert 'data-option="cancel"' in panel and ">Reject</button>" in panel
    assert "cancel. Reject" not in panel and "proceed_once." not in panel
