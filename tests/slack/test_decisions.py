"""A person decides from Slack: a permission request by a button with the agent's own
labels, a question by a reply in the card's thread, a gate, ``/swarm``; a non-admin is
refused and recorded; a decision made elsewhere edits the message."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from localslack import Message

from bot.slack.render import actions, button
from core.agent_state import Signal
from core.agents import _alerts as alerts
from core.dialogs import permissions as prompts
from core.event_kinds import EventKind
from core.history.events import EventFilter
from core.models import PromptOption, TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.workflows import Workflow, WorkflowBook
from tests.slack.conftest import World, buttons, labels, showing

pytestmark = pytest.mark.timeout(60)
OPTIONS = (
    PromptOption("1", "Yes"),
    PromptOption("2", "Yes, and don't ask again"),
    PromptOption("3", "No"),
)


async def open_prompt(service: SwarmService, text: str, agent: str = "Agent-1") -> int:
    """``agent`` shows a permission prompt (as its hook would report it); its id."""
    found = await service.store.write(agent, prompts.open_prompt, agent, Signal.HOOK, text, OPTIONS)
    return found.id


async def refusals(service: SwarmService) -> list[dict[str, object]]:
    """The data of the ``access.refused`` events, oldest first."""
    found = await service.history.find(EventFilter(kinds=(EventKind.ACCESS_REFUSED,)))
    return [e.data or {} for e in found]


async def test_a_prompt_decided_once_by_an_admins_press(world: World) -> None:
    server, service = world.server, world.service
    prompt_id = await open_prompt(service, "Bash(rm -rf build)\n```\n<!channel> go")
    post = await world.message_with(f"R-{prompt_id}")
    ref = f"R-{prompt_id}"
    assert labels(post) == ["Yes", "Yes, and don't ask again", "No"]  # the agent's words
    assert buttons(post) == [f"swarm:option:{ref}:{i}" for i in range(3)]
    fence = post.blocks[1]["text"]["text"]
    assert fence.count("```") == 2 and "&lt;!channel&gt;" in fence

    await server.press(world.stranger, post, f"swarm:option:{ref}:0")
    await server.wait_for(lambda: server.seen_by(world.stranger))
    assert "admins" in server.seen_by(world.stranger)[0].text
    assert (await service.inbox.prompt(prompt_id)).open
    (refused,) = await refusals(service)
    assert refused["user"] == world.stranger.id

    await server.press(world.admin, post, f"swarm:option:{ref}:1")
    await server.wait_for(showing(post, "chosen by slack:boss"))
    decided = await service.inbox.prompt(prompt_id)
    assert (decided.decision, decided.decided_by) == ("2", "slack:boss")
    assert buttons(post) == []
    await server.press(world.admin, as_it_was(post, ref), f"swarm:option:{ref}:2")
    await server.wait_for(lambda: len(server.seen_by(world.admin)) == 2)
    assert "already answered" in server.seen_by(world.admin)[1].text
    assert (await service.inbox.prompt(prompt_id)).decision == "2"  # once
    assert len(world.messages_with(f"{ref} ·")) == 1  # (the refusal is a line of its own)


def as_it_was(post: Message, ref: str) -> Message:
    """``post`` with the buttons it had before the decision (a person's late press on a
    screen not yet refreshed)."""
    late = [button("option", ref, o.label, option=i) for i, o in enumerate(OPTIONS)]
    return replace(post, blocks=[*post.blocks, *actions(ref, late)])


async def test_a_decision_made_elsewhere_edits_the_message(world: World) -> None:
    prompt_id = await open_prompt(world.service, "Run the migrations?")
    post = await world.message_with(f"R-{prompt_id}")
    await world.service.inbox.reject(f"R-{prompt_id}", "cli")  # swarm reject R-1
    await world.server.wait_for(showing(post, "'No' chosen by cli"))
    assert buttons(post) == []


async def test_a_question_answered_by_a_reply_in_the_cards_thread(world: World) -> None:
    server, service = world.server, world.service
    await service.tasks.create(TaskSpec("Pick a database"), "cli")
    await service.queue.assign_next()
    card = await world.message_with("T-1")
    await service.questions.ask("T-1", "Which database?", "Agent-1")
    await server.wait_for(showing(card, "Which database?"))
    await server.say(world.stranger, world.channel, "MongoDB!", thread_ts=card.ts)
    await server.wait_for(lambda: server.seen_by(world.stranger))
    assert (await service.questions.open_question(1)) is not None
    await server.say(world.admin, world.channel, "Postgres &amp; nothing else", thread_ts=card.ts)
    await server.wait_for(lambda: server.seen_by(world.admin))
    assert "queued for Agent-1" in server.seen_by(world.admin)[0].text
    assert await service.questions.open_question(1) is None
    deliveries = len(await service.messages.deliveries())
    (answer,) = [d for d in await service.messages.deliveries() if "Postgres" in d.text]
    assert answer.agent == "Agent-1" and "Postgres & nothing else" in answer.text
    await server.wait_for(showing(card, "assigned to Agent-1"))
    assert "Which database?" not in str(card.blocks)
    await server.say(world.admin, world.channel, "no question open: ignored", thread_ts=card.ts)
    await server.say(world.admin, world.channel, "not in a thread: ignored")
    await asyncio.sleep(0.5)  # handled after the ack: time to answer, were it answered
    assert len(server.seen_by(world.admin)) == 1
    assert len(await service.messages.deliveries()) == deliveries


async def test_swarm_commands(world: World) -> None:
    server, service = world.server, world.service
    created = await server.command(world.admin, world.channel, "task Write <the> docs")
    assert created["text"] == "🆕 *T-1* created: its card follows"
    task = await service.tasks.get("T-1")
    assert (task.title, task.created_by) == ("Write <the> docs", "slack:boss")
    refused = await server.command(world.stranger, world.channel, "task Sneaky")
    assert "admins" in refused["text"] and len(await service.tasks.newest()) == 1
    listed = await server.command(world.stranger, world.channel, "tasks")
    assert "*T-1* · Write &lt;the&gt; docs" in listed["text"]
    help_ = await server.command(world.stranger, world.channel, "what")
    assert help_["text"].startswith("/swarm task &lt;title&gt;")
    other = server.add_channel("random")
    elsewhere = await server.command(world.admin, other, "task Elsewhere")
    assert "only" in elsewhere["text"] and len(await service.tasks.newest()) == 1
    paused = await server.command(world.admin, world.channel, "pause lunch")
    assert paused["response_type"] == "in_channel" and service.kill_switch.engaged
    await server.command(world.admin, world.channel, "resume")
    assert not service.kill_switch.engaged
    sent = await server.command(world.admin, world.channel, "send Agent-2 rebase &amp; push")
    assert sent["text"] == "📨 queued for Agent-2"
    told = await server.command(world.admin, world.channel, "broadcast stand-up at 10")
    assert told["text"] == "📣 queued for 8 agent(s)"
    texts = [(d.agent, d.text) for d in await service.messages.deliveries()]
    assert any(a == "Agent-2" and t.endswith("rebase & push") for a, t in texts)  # unescaped
    assert sum("stand-up at 10" in t for _, t in texts) == 8


async def test_inbox_with_buttons_and_approve_by_reference(world: World) -> None:
    server, service = world.server, world.service
    prompt_id = await open_prompt(service, "Edit main.py?")
    await world.message_with(f"R-{prompt_id}")
    inbox = await server.command(world.admin, world.channel, "inbox")
    assert inbox["response_type"] == "in_channel"
    listing = next(m for m in server.top_level(world.channel) if "item(s) need you" in m.text)
    assert labels(listing) == ["Yes", "Yes, and don't ask again", "No"]
    approved = await server.command(world.admin, world.channel, f"approve R-{prompt_id}")
    assert approved["text"].startswith("✅")
    decided = await service.inbox.prompt(prompt_id)
    assert (decided.decision, decided.decided_by) == ("1", "slack:boss")  # its narrowest allow


async def test_an_unreported_turn_accepted_as_done_from_its_alert(world: World) -> None:
    server, service = world.server, world.service
    await service.tasks.create(TaskSpec("Fix the login", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    text = "Agent-2 ended its turn without reporting"
    await service.store.write("watch", alerts.open_alert, "Agent-2", alerts.UNREPORTED, text, 1)
    alert = await world.message_with("without reporting")
    assert labels(alert)[:2] == ["Accept as done A-1", "Fail A-1"]
    await server.press(world.stranger, alert, "swarm:accept:A-1")
    await server.wait_for(lambda: server.seen_by(world.stranger))
    assert (await service.tasks.get("T-1")).status.value == "assigned"
    await server.press(world.admin, alert, "swarm:accept:A-1")
    await server.wait_for(showing(alert, "(by slack:boss)"))
    assert buttons(alert) == []
    assert (await service.tasks.get("T-1")).status.value == "done"


async def test_a_gate_approved_by_its_button(world: World) -> None:
    server, service = world.server, world.service
    flow = (
        Workflow("ship")
        .step("ok", "Approve shipping", gate=True)
        .step("ship", "Ship", needs=["ok"])
        .check()
    )
    flows = WorkflowBook(service.store)
    gate, ship = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
    post = await world.message_with(f"T-{gate} waits for an admin's approval")
    assert buttons(post) == [f"swarm:approve:T-{gate}", f"swarm:reject:T-{gate}"]
    await server.press(world.admin, post, f"swarm:approve:T-{gate}")
    # the notifier's edit (as for a gate decided anywhere): who decided, and no buttons
    await server.wait_for(showing(post, "approved by slack:boss"))
    assert buttons(post) == []
    assert (await service.tasks.get(ship)).status is not TaskStatus.blocked


async def test_a_long_hostile_prompt_fits_block_kits_limits(world: World) -> None:
    service = world.service
    text = "<!here> & " * 1000 + "the end: rm -rf /"
    options = tuple(PromptOption(str(i), f"<!channel> option {i} " + "x" * 100) for i in range(30))
    found = await service.store.write(
        "Agent-1", prompts.open_prompt, "Agent-1", Signal.HOOK, text, options
    )
    post = await world.message_with(f"R-{found.id}")  # the local Slack enforces the limits
    fence = post.blocks[1]["text"]["text"]
    assert len(fence) <= 3000 and "the end: rm -rf /" in fence  # the tail is never cut
    assert f"swarm inbox show R-{found.id}" in fence
    assert "<!here>" not in fence and "&lt;!here&gt;" in fence
    kept = (await service.inbox.prompt(found.id)).options  # the core keeps some
    assert len(buttons(post)) == min(25, len(kept)) > 1
    assert all(len(label) <= 75 for label in labels(post))
    failed = await service.history.find(EventFilter(kinds=(EventKind.POST_FAILED,)))
    assert failed == []


async def test_an_agents_own_question_answered_in_the_cards_thread(world: World) -> None:
    """Claude Code's ``AskUserQuestion`` on the task (issue 79): the card shows its choices,
    a reply "SQLite" in the thread picks that one, kept for the agent's request (no note)."""
    from core import questions
    from core.hosts.answers import answers_option

    server, service = world.server, world.service
    await service.tasks.create(TaskSpec("Pick a database"), "cli")
    await service.queue.assign_next()
    card = await world.message_with("T-1")
    given = {"questions": [{"question": "Which database? <!channel>", "header": "DB",
                            "options": [{"label": "Postgres"}, {"label": "SQLite"}]}]}  # fmt: skip
    asked = await service.store.write("Agent-1", questions.ask_request, "Agent-1", "s#1", given, 1)
    assert asked is not None
    await server.wait_for(showing(card, "2) SQLite"))
    assert "<!channel>" not in str(card.blocks)  # the agent's mention is text, not a ping
    deliveries = len(await service.messages.deliveries())
    await server.say(world.admin, world.channel, "sqlite", thread_ts=card.ts)
    await server.wait_for(lambda: server.seen_by(world.admin))
    assert "queued for Agent-1" in server.seen_by(world.admin)[0].text
    kept = await service.questions.question(asked.id)
    assert kept.reply == answers_option([[1]])
    assert len(await service.messages.deliveries()) == deliveries
