"""/workflow list|run, /campaign show and the gates' Approve / Reject buttons (admins)."""

from __future__ import annotations

from bot.discordbot.access import Access
from bot.discordbot.workflow_commands import GateButton
from core.models import TaskStatus
from core.workflows import Workflow, WorkflowService
from tests.discord.conftest import World, slash


async def test_workflow_list_and_run_from_discord(world: World) -> None:
    await world.server.wait_for_commands("workflow", "campaign")
    listed = await slash(world, world.user, "workflow list")
    assert "release:" in listed.data["content"] and "fix-until-green:" in listed.data["content"]
    missing = await slash(world, world.user, "workflow run", {"name": "release"})
    assert missing.data["flags"] & 64
    assert 'variable "version" is required' in missing.data["content"]
    dry = await slash(world, world.user, "workflow run", {
        "name": "release", "variables": "version=1.4; modules=api,cli,web", "dry_run": True})
    assert "8 tasks would be created" in dry.data["content"]
    assert await world.service.list_tasks() == []
    run = await slash(world, world.user, "workflow run", {
        "name": "review-each", "variables": "modules=api,cli"})
    assert run.data["content"].startswith("```\nC-1 started: 3 tasks (T-1..T-3)")
    assert len(await world.service.list_tasks()) == 3


async def test_gate_buttons_are_for_admins(world: World) -> None:
    assert GateButton.needed is Access.admin
    flows = WorkflowService(world.service)
    flow = (Workflow("ship").step("ok", "Approve shipping", gate=True)
            .step("ship", "Ship", needs=["ok"]).check())
    gate, ship = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
    await world.server.wait_for_commands("campaign")
    handle = await world.server.invoke_slash(world.user, "campaign show", {"id": "C-1"})
    shown = await handle.wait_callback()
    assert f"T-{gate} waiting for approval" in shown.data["content"]
    message = await world.server.wait_for_message(lambda m: "waiting for approval" in m.content)
    refused = await (await world.server.click_button(
        world.user, message, f"swarm:gate:approve:{gate}")).wait_callback()
    assert "admins only" in refused.data["content"]
    assert (await world.service.get_task(gate)).status is TaskStatus.blocked
    approved = await (await world.server.click_button(
        world.admin, message, f"swarm:gate:approve:{gate}")).wait_callback()
    assert f"T-{gate} approved by boss" in approved.data["content"]
    assert (await world.service.get_task(ship)).status is TaskStatus.ready
    twice = await (await world.server.click_button(
        world.admin, message, f"swarm:gate:reject:{gate}")).wait_callback()
    assert twice.data["flags"] & 64 and "was already approved by discord:boss" in \
        twice.data["content"]
