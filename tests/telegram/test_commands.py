"""The bot's commands in the chat: an admin creates a task with /task and sees its live
message; a stranger's deciding command is refused in one line and recorded, reading is
for anyone in the chat; updates from another chat are ignored; /approve decides by
reference as ``swarm approve`` does."""

from __future__ import annotations

import pytest

from core.event_kinds import EventKind
from core.history.events import EventFilter
from core.models import TaskStatus
from tests.telegram.conftest import World, bot_message, has
from tests.telegram.test_decisions import open_prompt

pytestmark = pytest.mark.timeout(60)


async def test_task_creates_a_task_whose_message_follows(world: World) -> None:
    await world.server.say(world.admin, world.chat, "/task fix the <login> page")
    await bot_message(world, has("T-1 created: its message follows"))
    card = await bot_message(world, has("T-1 · fix the <login> page — ready"))
    task = await world.service.tasks.get("T-1")
    assert (task.title, task.status) == ("fix the <login> page", TaskStatus.ready)
    assert card.reply_to is None
    await world.server.say(world.stranger, world.chat, "/tasks")
    await bot_message(world, has("T-1 [ready] normal · fix the <login> page"))


async def test_a_strangers_command_is_refused_and_recorded(world: World) -> None:
    await world.server.say(world.stranger, world.chat, "/task sneak in")
    refusal = await bot_message(world, has("Only swarm admins decide"))
    assert refusal.text.count("\n") == 0
    assert await world.service.tasks.newest(None, None, limit=5) == []
    found = await world.service.history.find(EventFilter(kinds=(EventKind.ACCESS_REFUSED,)))
    assert [(e.actor, (e.data or {}).get("user")) for e in found] == [
        ("telegram:stranger_person", str(world.stranger.id))
    ]


async def test_another_chats_updates_are_ignored(world: World) -> None:
    other = world.server.add_group("elsewhere")
    await world.server.say(world.admin, other, "/task from elsewhere")
    await world.server.say(world.admin, world.chat, "/tasks")
    await bot_message(world, has("no tasks"))
    assert world.server.from_bot(other) == []
    assert await world.service.tasks.newest(None, None, limit=5) == []


async def test_approve_by_reference_decides_a_prompt(world: World) -> None:
    prompt_id = await open_prompt(world.service, "Bash(ls)")
    await bot_message(world, has(f"R-{prompt_id}"))
    await world.server.say(world.admin, world.chat, "/inbox")
    listing = await bot_message(world, has("1 item(s) need you"))
    assert f"n:option:R-{prompt_id}:0" in [b["callback_data"] for b in listing.buttons()]
    await world.server.say(world.admin, world.chat, f"/approve R-{prompt_id}")
    await bot_message(world, has("'Yes' chosen for Agent-1"))
    decided = await world.service.inbox.prompt(prompt_id)
    assert (decided.decision, decided.decided_by) == ("1", "telegram:boss_person")


async def test_an_inbox_button_decides_and_its_row_goes(world: World) -> None:
    first = await open_prompt(world.service, "Bash(ls)")
    second = await open_prompt(world.service, "Bash(pwd)", agent="Agent-2")
    post = await bot_message(world, has(f"R-{first}"))
    await world.server.say(world.admin, world.chat, "/inbox")
    listing = await bot_message(world, has("2 item(s) need you"))
    data = [str(b["callback_data"]) for b in listing.buttons()]
    assert f"n:option:R-{first}:2" in data and f"n:option:R-{second}:0" in data
    pressed = await world.server.press(world.admin, listing, f"n:option:R-{first}:2")
    assert "'No' chosen for Agent-1" in await world.server.answer_of(pressed)
    await world.server.wait_until(lambda: "'No' chosen for Agent-1" in listing.text)
    left = {str(b["callback_data"]).split(":")[2] for b in listing.buttons()}
    assert left == {f"R-{second}"}
    await world.server.wait_until(lambda: "chosen by telegram:boss_person" in post.text)
    assert post.buttons() == []
    decided = await world.service.inbox.prompt(first)
    assert (decided.decision, decided.decided_by) == ("3", "telegram:boss_person")


async def test_send_and_broadcast_queue_messages_for_the_agents(world: World) -> None:
    await world.server.say(world.stranger, world.chat, "/broadcast sneaky")
    await bot_message(world, has("Only swarm admins decide"))
    await world.server.say(world.admin, world.chat, "/send agent-2 rebase <main> & push")
    await bot_message(world, has("📨 queued for Agent-2"))
    await world.server.say(world.admin, world.chat, "/broadcast stand-up at 10")
    await bot_message(world, has("📣 queued for 8 agent(s)"))
    await world.server.say(world.admin, world.chat, "/send Agent-2")
    await bot_message(world, has("name the agent and say what"))
    texts = [(d.agent, d.text) for d in await world.service.messages.deliveries()]
    assert [a for a, t in texts if t.endswith("rebase <main> & push")] == ["Agent-2"]
    assert sum("stand-up at 10" in t for _, t in texts) == 8
    assert not any("sneaky" in t for _, t in texts)
