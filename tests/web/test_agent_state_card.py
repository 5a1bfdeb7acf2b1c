"""The dashboard's agent card shows the decided state and its evidence (escaped)."""

from __future__ import annotations

import httpx

from core.agent_state import AgentState, Signal
from core.agents import _signals as agent_signals
from core.service.swarm import SwarmService
from tests.web.test_pages import login


async def test_the_agent_card_shows_the_state_and_its_evidence(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str
) -> None:
    await service.store.update(
        agent_signals.set_state,
        "Agent-2",
        AgentState.WAITING,
        service.clock.now(),
        Signal.HOOK,
        "hook: Notification permission_prompt: <b>Claude</b> needs you",
    )
    await service.roster.set_paused("Agent-2", True, "test")
    await login(client, viewer_token)
    page = (await client.get("/agents")).text
    card = page.split('id="agent-Agent-2"', 1)[1].split("</article>", 1)[0]
    state = card.split('<p class="state">', 1)[1].split("</p>", 1)[0]
    # no coordinator runs here: the state is the last seen, and says how old
    assert state.startswith('waiting <span class="stale"') and "(as of " in state, state
    assert state.endswith("</span>, paused"), state
    assert "permission_prompt: &lt;b&gt;Claude&lt;/b&gt; needs you" in card
    other = page.split('id="agent-Agent-3"', 1)[1].split("</article>", 1)[0]
    assert '<p class="state">unknown</p>' in other and 'class="evidence' not in other
