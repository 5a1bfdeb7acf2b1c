"""A person decides from Telegram: a permission prompt's options as buttons with the agent's
own labels; an admin's press reaches the core's decision once and edits the message; a
stranger's press is refused in one line and recorded with their Telegram id; a decision
made elsewhere (the CLI) edits the message too; a question is answered by a reply."""

from __future__ import annotations

import pytest

from core.agent_state import Signal
from core.dialogs import permissions as prompts
from core.event_kinds import EventKind
from core.history.events import EventFilter
from core.models import PromptOption, TaskSpec
from core.service.swarm import SwarmService
from tests.telegram.conftest import World, bot_message, buttons, has, shows

pytestmark = pytest.mark.timeout(60)
OPTIONS = (
    PromptOption("1", "Yes"),
    PromptOption("2", "Yes, and don't ask again for <rm>"),
    PromptOption("3", "No"),
)


async def open_prompt(service: SwarmService, text: str, agent: str = "Agent-1") -> int:
    """``agent`` shows a permission prompt (as its hook would report it); its id."""
    found = await service.store.write(agent, prompts.open_prompt, agent, Signal.HOOK, text, OPTIONS)
    return found.id


async def test_an_admins_press_decides_a_prompt_once(world: World) -> None:
    prompt_id = await open_prompt(world.service, "Bash(rm -rf build) </pre><b>@boss_person")
    post = await bot_message(world, has(f"R-{prompt_id}"))
    assert post.text.startswith(f"✋ R-{prompt_id} · Agent-1 asks (hook); an admin chooses:")
    assert "&lt;/pre&gt;&lt;b&gt;@\u2060boss_person" in (post.html or "")
    assert [b["text"] for b in post.buttons()] == [o.label for o in OPTIONS]
    data = buttons(post)
    assert data == [f"p:choose:{prompt_id}:{i}" for i in range(3)]

    refused = await world.server.press(world.stranger, post, data[0])
    assert "Only swarm admins decide" in await world.server.answer_of(refused)
    assert (await world.service.inbox.prompt(prompt_id)).open
    found = await world.service.history.find(EventFilter(kinds=(EventKind.ACCESS_REFUSED,)))
    assert [(e.data or {}).get("user") for e in found] == [str(world.stranger.id)]

    pressed = await world.server.press(world.admin, post, data[1])
    assert "chosen for Agent-1" in await world.server.answer_of(pressed)
    decided = await world.service.inbox.prompt(prompt_id)
    assert (decided.decision, decided.decided_by) == ("2", "telegram:boss_person")
    assert "chosen by telegram:boss_person" in post.text and buttons(post) == []

    with pytest.raises(ValueError, match="no button"):  # nothing left to press twice
        await world.server.press(world.admin, post, data[1])
    flt = EventFilter(kinds=(EventKind.PROMPT_DECIDED,))
    assert len(await world.service.history.find(flt)) == 1


async def test_a_decision_made_elsewhere_edits_the_message(world: World) -> None:
    prompt_id = await open_prompt(world.service, "Edit(main.py)")
    post = await bot_message(world, has(f"R-{prompt_id}"))
    assert len(buttons(post)) == 3
    await world.service.inbox.decide_prompt(prompt_id, "3", "cli")
    await shows(world, post, "'No' chosen by cli")
    assert buttons(post) == []


async def test_a_reply_to_a_tasks_message_answers_its_question(world: World) -> None:
    service, server = world.service, world.server
    await service.tasks.create(TaskSpec("ship it"), "cli")
    await service.queue.assign_next()
    await service.tasks.start("T-1", "Agent-1", "on it")
    card = await bot_message(world, has("T-1 · ship it"))
    await service.questions.ask("T-1", "which branch?", "Agent-1")
    await shows(world, card, "waiting for an answer: Agent-1 asked")
    await server.say(world.stranger, world.chat, "main, surely", reply_to=card)
    await bot_message(world, has("Only swarm admins decide"))
    assert (await service.questions.open_question(1)) is not None
    await server.say(world.admin, world.chat, "the release branch", reply_to=card)
    await bot_message(world, has("T-1 answered: queued for Agent-1"))
    assert await service.questions.open_question(1) is None


async def test_a_reply_picks_the_choice_of_an_agents_own_question(world: World) -> None:
    """Claude Code's ``AskUserQuestion`` on the task (issue 79): the card shows its choices
    (the agent's ``<b>`` as text), a reply "2" picks the second, kept for its request."""
    from core import questions
    from core.hosts.answers import answers_option

    service, server = world.service, world.server
    await service.tasks.create(TaskSpec("ship it"), "cli")
    await service.queue.assign_next()
    await service.tasks.start("T-1", "Agent-1", "on it")
    card = await bot_message(world, has("T-1 · ship it"))
    given = {"questions": [{"question": "Which <b>branch</b>?", "header": "Branch",
                            "options": [{"label": "main"}, {"label": "release"}]}]}  # fmt: skip
    asked = await service.store.write("Agent-1", questions.ask_request, "Agent-1", "s#1", given, 1)
    assert asked is not None
    await shows(world, card, "2) release")
    await server.say(world.admin, world.chat, "9", reply_to=card)
    await bot_message(world, has("picks no option"))
    await server.say(world.admin, world.chat, "2", reply_to=card)
    await bot_message(world, has("T-1 answered: queued for Agent-1"))
    kept = await service.questions.question(asked.id)
    assert kept.reply == answers_option([[1]])
