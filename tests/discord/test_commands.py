"""Slash commands through the real discord.py client and the local Discord."""

from __future__ import annotations

from dataclasses import replace

import pytest
from localdiscord import LocalDiscordServer, RecordedMessage, running_client

from core.models import TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from tests.discord.conftest import World, builder_for, discord_settings, slash

pytestmark = pytest.mark.both_databases


async def test_task_create_makes_one_post_the_card_and_acknowledges_only_to_the_person(
    world: World,
) -> None:
    # issue 41, item 8: a reply embed and a card were two posts for one task
    handle = await world.server.invoke_slash(
        world.user,
        "task create",
        {"title": "Write docs", "priority": "high", "role": "coordination"},
    )
    callback = await handle.wait_callback()
    assert callback.data["flags"] & 64  # ephemeral: only the person sees it
    assert callback.data["content"] == f"🆕 T-1 created: its card follows in <#{world.channel.id}>"
    await world.server.wait_for_message(lambda m: "**T-1**" in m.content, channel=world.channel)
    await world.service.tasks.create(TaskSpec("later"), "cli")  # the notifier went past T-1
    await world.server.wait_for_message(lambda m: "**T-2**" in m.content, channel=world.channel)
    visible = [m for m in world.server.messages(world.channel) if "T-1" in _shown(m)]
    assert len(visible) == 1 and "Write docs" in visible[0].content, visible
    task = await world.service.tasks.get("T-1")
    assert task.priority.name == "high" and task.created_by == "discord:dev"


async def test_task_create_at_quiet_the_reply_embed_is_the_one_post(
    server: LocalDiscordServer, service: SwarmService
) -> None:
    settings = replace(discord_settings(server), notify="quiet")  # no card is posted
    builder = builder_for(server, service, discord=settings)
    user = next(u for u in server.guild.users if u.name == "dev")
    async with builder.ai(service) as ai, running_client(server, builder.bot(service, ai)):
        await server.wait_for_commands("task")
        handle = await server.invoke_slash(user, "task create", {"title": "Write docs"})
        callback = await handle.wait_callback()
    assert not callback.data.get("flags", 0) & 64
    assert callback.data["embeds"][0]["title"] == "T-1: Write docs"


def _shown(message: RecordedMessage) -> str:
    return message.content + str(message.embeds)


async def test_task_create_with_capabilities(world: World) -> None:
    choices = await world.server.invoke_autocomplete(
        world.user, "task create", "capabilities", "python, s", {"title": "x"}
    )
    assert [c["value"] for c in choices] == ["python,shell", "python,sql"]
    created = await slash(
        world, world.user, "task create", {"title": "Load the data", "capabilities": "sql, etl"}
    )
    assert created.data["content"].startswith("🆕 T-1 created")
    assert (await world.service.tasks.get("T-1")).capabilities == ("etl", "sql")
    refused = await slash(world, world.user, "task create", {"title": "x", "capabilities": "cobol"})
    assert refused.data["flags"] & 64
    assert "no configured agent can take a task for capabilities cobol" in refused.data["content"]
    assert len(await world.service.tasks.newest()) == 1


async def test_task_create_with_dependencies_and_list_show(world: World) -> None:
    await slash(world, world.user, "task create", {"title": "A"})
    await slash(world, world.user, "task create", {"title": "B"})
    handle = await world.server.invoke_slash(
        world.user, "task create", {"title": "C", "after": "T-1, 2"}
    )
    await handle.wait_callback()
    assert (await world.service.tasks.get("T-3")).after == [1, 2]
    listed = await (
        await world.server.invoke_slash(world.user, "task list", {"status": "blocked"})
    ).wait_callback()
    assert "T-3 [blocked]" in listed.data["content"] and "T-1 [" not in listed.data["content"]
    shown = await (
        await world.server.invoke_slash(world.user, "task show", {"id": "T-3"})
    ).wait_callback()
    fields = {f["name"]: f["value"] for f in shown.data["embeds"][0]["fields"]}
    assert fields["after"] == "T-1, T-2" and "waiting for T-1, T-2" in fields["reason"]


async def test_bad_inputs_get_short_ephemeral_errors_and_change_nothing(world: World) -> None:
    cases = [
        ("task create", {"title": "x", "agent": "Agent-99"}, "unknown agent 'Agent-99'"),
        ("task create", {"title": "x", "after": "T-42"}, "dependency T-42 does not exist"),
        ("task create", {"title": " "}, "title must not be empty"),
        ("task show", {"id": "T-404"}, "unknown task T-404"),
        ("task done", {"id": "T-404"}, "unknown task T-404"),
        ("msg", {"agent": "nobody", "text": "hi"}, "unknown agent 'nobody'"),
    ]
    for name, options, message in cases:
        handle = await world.server.invoke_slash(world.user, name, options)
        callback = await handle.wait_callback()
        assert callback.data["flags"] & 64, f"{name} reply is not ephemeral"
        assert message in callback.data["content"]
    assert await world.service.tasks.newest() == []


async def test_cycle_refused_through_the_service_is_reported(world: World) -> None:
    await slash(world, world.user, "task create", {"title": "A"})
    await slash(world, world.user, "task create", {"title": "B", "after": "T-1"})
    handle = await world.server.invoke_slash(world.user, "task done", {"id": "T-2"})
    callback = await handle.wait_callback()
    assert "T-2 is blocked" in callback.data["content"] and callback.data["flags"] & 64


async def test_messages_agents_status(world: World) -> None:
    msg = await (
        await world.server.invoke_slash(world.user, "msg", {"agent": "Agent-3", "text": "hello"})
    ).wait_callback()
    assert msg.data["content"] == "📨 queued for Agent-3"
    everyone = await (
        await world.server.invoke_slash(world.user, "broadcast", {"text": "all", "role": "qa"})
    ).wait_callback()
    assert everyone.data["content"] == "📣 queued for 1 agent(s)"
    agents = await (await world.server.invoke_slash(world.user, "agents")).wait_callback()
    assert "Agent-8" in agents.data["embeds"][0]["description"]
    status = await (await world.server.invoke_slash(world.user, "status")).wait_callback()
    assert status.data["embeds"][0]["title"] == "Swarm status"


async def test_autocomplete_agents_and_open_tasks(world: World) -> None:
    choices = await world.server.invoke_autocomplete(world.user, "msg", "agent", "qa")
    assert [c["value"] for c in choices] == ["Agent-4"]
    await slash(world, world.user, "task create", {"title": "Alpha"})
    await slash(world, world.user, "task create", {"title": "Beta"})
    choices = await world.server.invoke_autocomplete(
        world.user, "task create", "after", "T-1,Be", {"title": "x"}
    )
    assert [c["value"] for c in choices] == ["T-1,T-2"]


async def test_send_is_the_command_and_msg_its_alias(world: World) -> None:
    for name in ("send", "msg"):
        reply = await (
            await world.server.invoke_slash(
                world.user, name, {"agent": "agent-3", "text": f"via /{name}"}
            )
        ).wait_callback()
        assert reply.data["content"] == "📨 queued for Agent-3"
    texts = [d.text for d in await world.service.messages.deliveries()]
    assert sorted(texts) == ["via /msg", "via /send"]


async def test_autocomplete_offers_the_tasks_each_command_can_act_on(world: World) -> None:
    for title in ("Alpha", "Beta", "Gamma", "Delta"):
        await world.service.tasks.create(TaskSpec(title), "cli")
    await world.service.queue.assign_batch()  # T-1..T-4 assigned
    await world.service.tasks.complete("T-1", "Agent-1")
    await world.service.tasks.fail("T-2", "Agent-2", "broken")
    await world.service.tasks.cancel("T-3", "cli")

    async def offered(command: str, typed: str = "") -> list[str]:
        found = await world.server.invoke_autocomplete(world.user, command, "id", typed)
        return [c["value"] for c in found]

    assert await offered("task retry") == ["T-3", "T-2"]  # failed and cancelled
    assert await offered("task done") == ["T-4"]
    assert await offered("task show", "Alph") == ["T-1"]  # done tasks too
    assert await offered("task show") == ["T-4", "T-3", "T-2", "T-1"]
    assert await offered("task cancel") == ["T-4"]


async def test_admin_commands(world: World) -> None:
    paused = await (
        await world.server.invoke_slash(world.admin, "pause", {"reason": "lunch"})
    ).wait_callback()
    assert "paused" in paused.data["content"] and world.service.kill_switch.engaged
    await (await world.server.invoke_slash(world.admin, "resume")).wait_callback()
    assert not world.service.kill_switch.engaged
    await slash(world, world.user, "task create", {"title": "job"})
    assigned = await (
        await world.server.invoke_slash(
            world.admin, "task assign", {"id": "T-1", "agent": "Agent-6"}
        )
    ).wait_callback()
    assert "T-1" in assigned.data["content"]
    assert (await world.service.tasks.get("T-1")).pinned == "Agent-6"
    await (
        await world.server.invoke_slash(world.admin, "agent pause", {"agent": "Agent-2"})
    ).wait_callback()
    assert next(r for r in await world.service.roster.rows() if r["id"] == "Agent-2")["paused"]


async def test_unauthorized_users_are_refused_and_audited(world: World) -> None:
    refused = await (
        await world.server.invoke_slash(world.stranger, "task create", {"title": "sneaky"})
    ).wait_callback()
    assert refused.data["flags"] & 64 and "not allowed" in refused.data["content"]
    not_admin = await (await world.server.invoke_slash(world.user, "pause")).wait_callback()
    assert "admins only" in not_admin.data["content"]
    assert not world.service.kill_switch.engaged and await world.service.tasks.newest() == []
    allowed = await (await world.server.invoke_slash(world.user, "status")).wait_callback()
    assert allowed.data["embeds"]
    audit = await world.service.history.audit_rows()
    summary = [(r.user_name, r.command.split()[0], bool(r.allowed)) for r in audit]
    assert summary[:3] == [
        ("dev", "status", True),
        ("dev", "pause", False),
        ("stranger", "task", False),
    ]
    assert "title=sneaky" in audit[2].command


async def test_task_done_through_discord(world: World) -> None:
    await slash(world, world.user, "task create", {"title": "job"})
    await world.service.queue.assign_next()
    done = await (
        await world.server.invoke_slash(world.user, "task done", {"id": "t-1", "note": "ok"})
    ).wait_callback()
    assert done.data["content"].startswith("✅ T-1 [done]")
    assert (await world.service.tasks.get("T-1")).status is TaskStatus.done


async def test_fail_retry_cancel_and_agent_resume(world: World) -> None:
    await slash(world, world.user, "task create", {"title": "flaky"})
    await slash(world, world.user, "task create", {"title": "next", "after": "T-1"})
    await world.service.queue.assign_next()
    failed = await slash(world, world.user, "task fail", {"id": "T-1", "reason": "tests red"})
    assert failed.data["content"].startswith("❌ T-1 [failed]")
    assert (await world.service.tasks.get("T-2")).reason == "dependency T-1 failed"
    retried = await slash(world, world.user, "task retry", {"id": "T-1"})
    assert retried.data["content"].startswith("🔁 T-1 [ready]")
    cancelled = await slash(world, world.user, "task cancel", {"id": "T-2"})
    assert cancelled.data["content"].startswith("🛑 T-2 [cancelled]")
    again = await slash(world, world.user, "task cancel", {"id": "T-2"})
    assert again.data["flags"] & 64 and "already cancelled" in again.data["content"]
    await slash(world, world.admin, "agent pause", {"agent": "Agent-5"})
    resumed = await slash(world, world.admin, "agent resume", {"agent": "agent-5"})
    assert resumed.data["content"] == "▶️ Agent-5 resumed"
    kinds = [e.kind for e in await world.service.history.events(limit=1000)]
    assert kinds.count("agent.paused") == 1 and kinds.count("agent.resumed") == 1


async def test_task_depend_events_and_alerts(world: World) -> None:
    for title in ("base", "top"):
        await world.service.tasks.create(TaskSpec(title), "cli")
    waits = await slash(world, world.user, "task depend", {"id": "T-2", "after": "T-1"})
    assert waits.data["content"] == "⏳ T-2 waits for T-1"
    assert (await world.service.tasks.get("T-2")).status is TaskStatus.blocked
    cycle = await slash(world, world.user, "task depend", {"id": "T-1", "after": "T-2"})
    assert cycle.data["flags"] & 64 and "cycle" in cycle.data["content"]
    shown = await slash(world, world.user, "events", {"kind": "task.created", "grep": "top"})
    assert shown.data["flags"] & 64 and "T-2 created by cli: top" in shown.data["content"]
    assert "T-1 created" not in shown.data["content"]
    none = await slash(world, world.user, "alerts")
    assert "no open alerts" in none.data["content"]
    from core.agents._alerts import open_alert

    await world.service.store.write("watcher", open_alert, "Agent-3", "stalled", "no screen change")
    listed = await slash(world, world.user, "alerts")
    assert "Agent-3  stalled" in listed.data["content"]
    assert "no screen change" in listed.data["content"]


async def test_task_create_details_form_opens_a_modal(world: World) -> None:
    opened = await world.server.invoke_slash(
        world.user, "task create", {"title": "Write docs", "details_form": True}
    )
    form = await opened.wait_callback()
    assert form.type == 9 and form.data["title"] == "Task details"
    submitted = await world.server.submit_modal(
        world.user, opened, {"Details": "line one\nline two"}
    )
    reply = await submitted.wait_callback()
    assert reply.data["content"].startswith("🆕 T-1 created") and reply.data["flags"] & 64
    task = await world.service.tasks.get("T-1")
    assert (task.details, task.created_by) == ("line one\nline two", "discord:dev")
    wrong = await world.server.invoke_slash(
        world.user, "task create", {"title": "x", "agent": "nobody", "details_form": True}
    )
    await wrong.wait_callback()
    refused = await (
        await world.server.submit_modal(world.user, wrong, {"Details": "d"})
    ).wait_callback()
    assert "unknown agent 'nobody'" in refused.data["content"] and refused.data["flags"] & 64
