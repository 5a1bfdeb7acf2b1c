"""Questions in Discord: posted in the task's thread, the card waits (who asked, since
when), /reply answers."""

from __future__ import annotations

import pytest

from core.models import TaskSpec
from tests.discord.conftest import World, slash
from tests.discord.test_notifier import edited_to, has, thread_of

pytestmark = pytest.mark.both_databases


async def test_a_question_waits_in_the_thread_and_reply_there_answers_it(world: World) -> None:
    server = world.server
    await world.service.tasks.create(TaskSpec("Pick a database"), "cli")
    await world.service.queue.assign_next()
    card = await server.wait_for_message(has("assigned to Agent-1"), channel=world.channel)
    asked = await world.service.questions.ask("T-1", "Which database?", "Agent-1")
    await edited_to(
        server,
        card,
        "❓ **T-1** · Pick a database — waiting for an answer: "
        f"Agent-1 asked <t:{int(asked.asked_at)}:R>: Which database?",
    )
    thread = await thread_of(server, card)
    await server.wait_for_message(
        has("❓ T-1 question from Agent-1: Which database?"), channel=thread
    )
    handle = await server.invoke_slash(world.user, "reply", {"text": "Postgres"}, channel=thread)
    answered = await handle.wait_callback()
    assert answered.data["content"] == "💬 answer queued for Agent-1 (T-1)"
    assert answered.data["flags"] & 64
    await edited_to(server, card, "📨 **T-1** · Pick a database — assigned to Agent-1")
    await server.wait_for_message(has("💬 T-1 answered by discord:dev: Postgres"), channel=thread)
    (answer,) = [d for d in await world.service.messages.deliveries() if "Postgres" in d.text]
    assert answer.agent == "Agent-1" and "(Which database?)" in answer.text  # a note about it
    assert len(server.messages(world.channel)) == 1


async def test_reply_outside_a_thread_needs_the_task(world: World) -> None:
    refused = await slash(world, world.user, "reply", {"text": "Postgres"})
    assert "use /reply in a task's thread, or give the task" in refused.data["content"]
    await world.service.tasks.create(TaskSpec("job"), "cli")
    none = await slash(world, world.user, "reply", {"text": "Postgres", "id": "T-1"})
    assert "T-1 has no open question" in none.data["content"]


async def test_ask_from_discord_makes_the_task_wait_and_reply_answers(world: World) -> None:
    refused = await slash(world, world.user, "ask", {"text": "Which port?"})
    assert "use /ask in a task's thread, or give the task" in refused.data["content"]
    await world.service.tasks.create(TaskSpec("Open a port"), "cli")
    idle = await slash(world, world.user, "ask", {"text": "Which port?", "id": "T-1"})
    assert "only an assigned or in-progress task can have questions" in idle.data["content"]
    await world.service.queue.assign_next()
    asked = await slash(world, world.user, "ask", {"text": "Which port?", "id": "T-1"})
    assert asked.data["content"] == "❓ question 1 on T-1 waits for an answer (/reply)"
    question = await world.service.questions.question(1)
    assert (question.agent, question.asked_by, question.open) == ("Agent-1", "discord:dev", True)
    await world.server.wait_for_message(  # the card names who asked (a person, for Agent-1)
        has(
            f"waiting for an answer: discord:dev asked <t:{int(question.asked_at)}:R>: Which port?"
        ),
        channel=world.channel,
    )
    await slash(world, world.user, "reply", {"text": "8080", "id": "T-1"})
    assert (await world.service.questions.question(1)).answer == "8080"


async def test_an_agents_own_question_is_answered_by_reply_with_its_choice(world: World) -> None:
    """Claude Code's ``AskUserQuestion`` (its host's request): the thread says it, ``/reply
    2`` there picks the agent's second choice, which is kept for the agent's request (no
    note to its window), and the history names the label chosen (issue 79)."""
    from core import questions
    from core.hosts.answers import answers_option

    server = world.server
    await world.service.tasks.create(TaskSpec("Pick a database"), "cli")
    await world.service.queue.assign_next()
    card = await server.wait_for_message(has("assigned to Agent-1"), channel=world.channel)
    given = {"questions": [{
        "question": "Which database, @everyone?", "header": "Database",
        "options": [{"label": "Postgres"}, {"label": "SQLite", "description": "one file"}],
    }]}  # fmt: skip
    asked = await world.service.store.write(
        "Agent-1", questions.ask_request, "Agent-1", "s#1", given, 1
    )
    assert asked is not None
    thread = await thread_of(server, card)
    said = await server.wait_for_message(
        has("❓ T-1 question from Agent-1: Which database, @everyone?"), channel=thread
    )
    assert said.pings == set()  # the agent's @everyone pings nobody
    handle = await server.invoke_slash(world.user, "reply", {"text": "2"}, channel=thread)
    assert (await handle.wait_callback()).data["content"] == "💬 answer queued for Agent-1 (T-1)"
    await server.wait_for_message(has("💬 T-1 answered by discord:dev: SQLite"), channel=thread)
    kept = await world.service.questions.question(asked.id)
    assert kept.reply == answers_option([[1]])
    assert not [d for d in await world.service.messages.deliveries() if "SQLite" in d.text]
