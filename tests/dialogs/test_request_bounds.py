"""Issue 66, item 8, and issue 64: a protocol agent's permission request is what its options
say and stays small. ``swarm approve`` takes the narrowest allow (``allow_once`` before
``allow_always``: Gemini CLI lists "Allow for this session" first), ``swarm reject`` a
rejecting option by its kind, never one that allows (before: the last option, whatever it
was), and refuses in one line when there is none. A label is cut at ``LABEL_MAX``, a request
keeps ``OPTIONS_MAX`` options (the rest said), and an agent opens at most ``PER_MINUTE`` a
minute: swarm rejects the rest without asking, said once (real store, SQLite and
PostgreSQL; ``swarm inbox --json`` in a real process on SQLite)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.dialogs import hooks as hook_prompts
from core.dialogs import permissions as prompts
from core.dialogs.flood import FLOOD, PER_MINUTE
from core.dialogs.permissions import OPTIONS_MAX
from core.errors import InvalidInput
from core.event_kinds import EventKind
from core.models import LABEL_MAX, PromptOption, option_kind
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.agents.protocol_journal import AGENT, record, started
from tests.helpers import run_cli

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(120)]

GEMINI = [  # Gemini CLI's order: the broadest first
    {"id": "proceed_always", "name": "Allow for this session", "kind": "allow_always"},
    {"id": "proceed_once", "name": "Allow", "kind": "allow_once"},
    {"id": "cancel", "name": "Reject", "kind": "reject_once"},
]
ALLOW_LAST = [  # an agent that lists an allow last
    {"id": "no", "name": "No", "kind": "reject_once"},
    {"id": "yes", "name": "Yes", "kind": "allow_once"},
]
ONLY_ALLOWS = [
    {"id": "once", "name": "Allow once", "kind": "allow_once"},
    {"id": "always", "name": "Always", "kind": "allow_always"},
]


def asks(seq: int, options: list[dict[str, Any]], title: str = "touch x") -> dict[str, Any]:
    return {"seq": seq, "at": 1000.0 + seq, "type": "permission", "request": f"s-1#{seq}",
            "title": title, "kind": "execute", "options": options}  # fmt: skip


async def opened(service: SwarmService, entries: list[dict[str, Any]]) -> list[prompts.Prompt]:
    await started(service)
    await record(service, entries)
    return await service.store.read(lambda conn: prompts.open_prompts(conn, AGENT))


async def test_approve_takes_the_narrowest_allow_and_reject_a_rejecting_option(
    service: SwarmService,
) -> None:
    gemini, allow_last, only_allows = await opened(service, [
        asks(1, GEMINI, "a"), asks(2, ALLOW_LAST, "b"), asks(3, ONLY_ALLOWS, "c"),
    ])  # fmt: skip
    approved = await service.inbox.approve(f"R-{gemini.id}", "boss")
    assert approved.detail["decision"] == "proceed_once"
    rejected = await service.inbox.reject(f"R-{allow_last.id}", "boss")
    assert rejected.detail["decision"] == "no"  # not the allow listed last
    with pytest.raises(InvalidInput) as refused:
        await service.inbox.reject(f"R-{only_allows.id}", "boss")
    assert str(refused.value).startswith(f"R-{only_allows.id} has no option that rejects: ")
    assert (await service.inbox.prompt(only_allows.id)).open  # nothing chosen


def test_a_panes_options_are_read_by_their_words() -> None:
    kinds = [option_kind(w) for w in (
        "Yes", "Yes, and don't ask again this session", "No, and tell Claude what to do",
        "Allow once", "Allow for this session", "No, suggest changes (esc)", "Maybe",
    )]  # fmt: skip
    assert kinds == ["allow_once", "allow_always", "reject_once", "allow_once",
                     "allow_always", "reject_once", ""]  # fmt: skip


async def test_a_huge_label_and_too_many_options_are_cut_and_said(
    service: SwarmService, settings: Settings
) -> None:
    many = [{"id": f"o{i}", "name": "x" * 10_000_000 if i == 0 else f"Option {i}",
             "kind": "allow_once"} for i in range(40)]  # fmt: skip
    many.append({"id": "k" * 10_000, "name": "a key too long to answer", "kind": "reject_once"})
    (prompt,) = await opened(service, [asks(1, many)])
    assert len(prompt.options) == OPTIONS_MAX
    assert len(prompt.options[0].label) == LABEL_MAX and prompt.options[0].label.endswith("…")
    assert f"({40 - OPTIONS_MAX} more option(s) the agent gave are not shown" in prompt.text
    if settings.database_url is None:  # a real `swarm inbox --json` on this home
        out = run_cli(settings.home, "inbox", "--json")
        assert out.code == 0, out.err
        assert len(out.out) < 20_000 and json.loads(out.out)[0]["options"][0]["kind"]


async def test_beyond_the_rate_an_agents_requests_are_rejected_without_asking(
    service: SwarmService, clock: ManualClock
) -> None:
    entries = [asks(n, GEMINI, f"step {n}") for n in range(1, PER_MINUTE + 11)]
    still = await opened(service, entries)
    assert len(still) == PER_MINUTE
    flooded = await service.store.read(
        lambda conn: [prompts.get_prompt(conn, p) for p in range(PER_MINUTE + 1, PER_MINUTE + 11)]
    )
    assert {(p.decision, p.decided_by) for p in flooded} == {("cancel", FLOOD)}
    said = [e for e in await service.history.events(limit=500)
            if e.kind == EventKind.PROMPT_FLOODED]  # fmt: skip
    assert len(said) == 1 and f"more than {PER_MINUTE} permissions within a minute" in said[0].text
    opened_events = [e for e in await service.history.events(limit=500)
                     if e.kind == EventKind.PROMPT_OPENED]  # fmt: skip
    assert len(opened_events) == PER_MINUTE
    clock.advance(61)  # a new minute: asked again
    await record(service, [asks(PER_MINUTE + 11, GEMINI, "later")])
    found = await service.store.read(lambda conn: prompts.open_prompts(conn, AGENT))
    assert len(found) == PER_MINUTE + 1


async def test_beyond_the_rate_an_agents_hook_requests_are_rejected_without_asking(
    service: SwarmService, clock: ManualClock
) -> None:
    """The same bound on the hook route (Claude Code's ``PermissionRequest`` hook, through a
    sandbox's door too): before, an agent in a loop opened a person's item (a post and an
    edit in each chat) per request without end (found by an attack audit). Beyond
    ``PER_MINUTE`` a minute each is rejected unasked, its hook printing the rejection."""
    options = (PromptOption.of("allow", "Allow", "allow_once"),
               PromptOption.of("deny", "Deny", "reject_once"))  # fmt: skip

    def ask(conn: Any, ctx: Any, n: int) -> prompts.Prompt:
        return hook_prompts.open_hook_prompt(
            conn, ctx, AGENT, f"Allow Bash: touch {n}?", options, {}, task_id=None,
            session=f"hook-{n}", hook=None, expires_at=None,
        )  # fmt: skip

    made = [await service.store.write("hook", ask, n) for n in range(PER_MINUTE + 5)]
    assert [p.decision for p in made[:PER_MINUTE]] == [None] * PER_MINUTE
    assert {(p.decision, p.decided_by) for p in made[PER_MINUTE:]} == {("deny", FLOOD)}
    said = [e for e in await service.history.events(limit=500)
            if e.kind == EventKind.PROMPT_FLOODED]  # fmt: skip
    assert len(said) == 1
    clock.advance(61)  # a new minute: asked again
    assert (await service.store.write("hook", ask, 99)).decision is None
