"""/workflow list|run, /campaign show and the gates' Approve / Reject buttons (admins)."""

from __future__ import annotations

import copy

import pytest

from bot.discordbot.access import Access
from bot.discordbot.gates import GateButton
from bot.discordbot.workflow_commands import MORE_LABEL
from core.models import TaskStatus
from core.workflows import Workflow, WorkflowBook
from tests.discord.conftest import World, slash

pytestmark = pytest.mark.both_databases


async def test_workflow_list_and_run_from_discord(world: World) -> None:
    await world.server.wait_for_commands("workflow", "campaign")
    folder = world.service.settings.home / "workflows"
    folder.mkdir()
    (folder / "deep.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    listed = await slash(world, world.user, "workflow list")
    assert "release:" in listed.data["content"] and "fix-until-green:" in listed.data["content"]
    assert (
        "deep: INVALID: deep.toml: not valid TOML (nested more than 32 levels deep)"
        in listed.data["content"]
    )  # one bad file does not hide the others
    missing = await slash(
        world, world.user, "workflow run", {"name": "release", "variables": "modules=api"}
    )
    assert missing.data["flags"] & 64
    assert 'variable "version" is required' in missing.data["content"]
    dry = await slash(
        world,
        world.user,
        "workflow run",
        {"name": "release", "variables": "version=1.4; modules=api,cli,web", "dry_run": True},
    )
    assert "8 tasks would be created" in dry.data["content"]
    assert await world.service.tasks.newest() == []
    run = await slash(
        world, world.user, "workflow run", {"name": "review-each", "variables": "modules=api,cli"}
    )
    assert run.data["content"].startswith("```\nC-1 started: 3 tasks (T-1..T-3)")
    assert len(await world.service.tasks.newest()) == 3


async def test_gate_buttons_are_for_admins(world: World) -> None:
    assert GateButton.needed is Access.admin
    flows = WorkflowBook(world.service.store)
    flow = (
        Workflow("ship")
        .step("ok", "Approve shipping", gate=True)
        .step("ship", "Ship", needs=["ok"])
        .check()
    )
    gate, ship = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
    await world.server.wait_for_commands("campaign")
    handle = await world.server.invoke_slash(world.user, "campaign show", {"id": "C-1"})
    shown = await handle.wait_callback()
    (embed,) = shown.data["embeds"]
    assert {"name": "gates waiting", "value": f"T-{gate}", "inline": True} in embed["fields"]
    message = await world.server.wait_for_message(
        lambda m: bool(m.embeds) and m.embeds[0]["title"].startswith("C-1")
    )
    held = copy.deepcopy(message)  # the admin's client, not redrawn after the approval
    refused = await (
        await world.server.click_button(world.user, message, f"swarm:gate:approve:{gate}")
    ).wait_callback()
    assert "admins only" in refused.data["content"]
    assert (await world.service.tasks.get(gate)).status is TaskStatus.blocked
    approved = await (
        await world.server.click_button(world.admin, message, f"swarm:gate:approve:{gate}")
    ).wait_callback()
    assert f"T-{gate} approved by boss" in approved.data["content"]
    assert (await world.service.tasks.get(ship)).status is TaskStatus.ready
    await world.server.wait_for_message(lambda m: m.id == message.id and not m.custom_ids())
    twice = await (
        await world.server.click_button(
            world.admin, held, f"swarm:gate:reject:{gate}", as_held=True
        )
    ).wait_callback()
    assert (
        twice.data["flags"] & 64 and "was already approved by discord:boss" in twice.data["content"]
    )


async def test_workflow_run_asks_for_the_variables_in_a_form(world: World) -> None:
    await world.server.wait_for_commands("workflow")
    opened = await world.server.invoke_slash(world.user, "workflow run", {"name": "release"})
    form = await opened.wait_callback()
    assert form.type == 9  # a modal
    fields = [row["components"][0] for row in form.data["components"]]
    assert [(f["label"], f["required"], f.get("value")) for f in fields] == [
        ("version", True, None),
        ("modules", False, "api, cli"),
        ("publish", False, "true"),
    ]
    bad = await (
        await world.server.submit_modal(world.user, opened, {"version": "1.4", "publish": "maybe"})
    ).wait_callback()
    assert (
        bad.data["flags"] & 64 and 'variable "publish" must be true or false' in bad.data["content"]
    )
    assert await world.service.tasks.newest() == []
    again = await world.server.invoke_slash(world.user, "workflow run", {"name": "release"})
    await again.wait_callback()
    done = await (
        await world.server.submit_modal(
            world.user, again, {"version": "2.0", "modules": "api, cli, web", "publish": "false"}
        )
    ).wait_callback()
    assert "C-1 started: 8 tasks" in done.data["content"]
    titles = {t.title: t.status for t in await world.service.tasks.newest()}
    assert titles["Review web for 2.0"] is TaskStatus.blocked
    assert titles["Tag 2.0"] is TaskStatus.skipped


BIG_FLOW = """
name = "big"
[vars.a]
required = true
[vars.b]
[vars.c]
[vars.d]
[vars.e]
required = true
[vars.f]
type = "int"
default = 3
[vars.g]
type = "list"
default = ["x", "y"]
[[steps]]
id = "s"
title = "${a} ${e} ${f} ${g}"
"""


async def test_a_workflow_with_more_variables_than_a_form_holds(world: World) -> None:
    (world.service.settings.home / "workflows").mkdir()
    (world.service.settings.home / "workflows" / "big.toml").write_text(BIG_FLOW)
    await world.server.wait_for_commands("workflow")
    opened = await world.server.invoke_slash(world.user, "workflow run", {"name": "big"})
    form = await opened.wait_callback()
    fields = [row["components"][0] for row in form.data["components"]]
    assert [f["label"] for f in fields] == ["a", "b", "c", "d", MORE_LABEL]
    assert fields[4]["style"] == 2 and fields[4]["value"] == "e=\nf=3\ng=x, y"
    for text, error in (
        ("e=1\nf=three", 'variable "f" must be a whole number'),
        ("e=1\nb=2", f"{MORE_LABEL}: 'b' has its own field (listed there: e*, f, g)"),
        ("e=1\nzz=2", "'zz' is not a variable"),
        ("e 1", "'e 1' is not NAME=VALUE"),
        ("e=\nf=3", 'variable "e" is required'),
    ):
        opened = await world.server.invoke_slash(world.user, "workflow run", {"name": "big"})
        await opened.wait_callback()  # a form is answered once
        bad = await (
            await world.server.submit_modal(world.user, opened, {"a": "A", MORE_LABEL: text})
        ).wait_callback()
        assert bad.data["flags"] & 64 and error in bad.data["content"], bad.data
        assert "\n" not in bad.data["content"]
        assert await world.service.tasks.newest() == []
    again = await world.server.invoke_slash(world.user, "workflow run", {"name": "big"})
    await again.wait_callback()
    done = await (
        await world.server.submit_modal(
            world.user, again, {"a": "A", MORE_LABEL: "e=E\nf=7\ng=p,q"}
        )
    ).wait_callback()
    assert "C-1 started: 1 tasks" in done.data["content"]
    (task,) = await world.service.tasks.newest()
    assert task.title == "A E 7 p, q"
