"""A limit a hook says is checked against the agent's pane (issue 54, item 2: what an event
may change is bounded by what swarm can see): the judge's rule, on observations."""

from __future__ import annotations

from core.agent_state import AgentState, Observation, Signal
from core.agents._judge import Freshness, HeldLimit, combine


def _hook_limit(at: float) -> Observation:
    return Observation("Agent-1", Signal.HOOK, AgentState.LIMITED, at,
                       "hook: StopFailure rate_limit")  # fmt: skip


def _pane(state: AgentState, at: float) -> Observation:
    return Observation("Agent-1", Signal.TEXT, state, at, f"text: {state.value}")


def test_a_hooks_limit_the_pane_does_not_show_is_not_believed() -> None:
    """Issue 54, item 2: what an event may change is bounded by what swarm can see. Before,
    a hook's StopFailure rate_limit held its agent limited for the backoff while its pane,
    read after it, showed the agent at its input."""
    fresh = Freshness(sampled_s=15.0, event_s=600.0, limit_backoff_s=1800.0)
    limit = _hook_limit(1000.0)
    for pane, limited in (
        (None, True),  # no pane to check against: the hook is believed
        (_pane(AgentState.IDLE, 1002.0), True),  # read too soon: the error line may follow
        (_pane(AgentState.LIMITED, 1010.0), True),  # the pane shows the limit too
        (_pane(AgentState.ERRORED, 1010.0), True),  # the pane shows its API error
        (_pane(AgentState.IDLE, 1010.0), False),  # the pane shows it free: not limited
    ):
        seen = {Signal.HOOK: limit} | ({Signal.TEXT: pane} if pane else {})
        verdict = combine(seen, 1011.0, fresh)
        assert (verdict.state is AgentState.LIMITED) is limited, (pane, verdict)


def test_a_decided_limit_from_a_hook_ends_when_the_pane_shows_the_agent_free() -> None:
    fresh = Freshness(sampled_s=15.0, event_s=600.0, limit_backoff_s=1800.0)
    held = HeldLimit(1000.0, 2800.0, Signal.HOOK, "hook: StopFailure rate_limit")
    idle = {Signal.TEXT: _pane(AgentState.IDLE, 1010.0)}
    assert combine(idle, 1011.0, fresh, held=held).state is AgentState.IDLE
    from_pane = HeldLimit(1000.0, 2800.0, Signal.TEXT, "text: usage limit")
    assert combine(idle, 1011.0, fresh, held=from_pane).state is AgentState.LIMITED
