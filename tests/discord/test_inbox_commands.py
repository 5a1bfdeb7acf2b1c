"""``/inbox`` on the local Discord: the needs-you queue with a row of buttons per item; a
user lists it, only an admin presses (audited); each press is one answer, a second press is
told why not; Reply opens a form (issue 41, item 1)."""

from __future__ import annotations

from typing import Any

import pytest

from core.agents import _alerts as alerts
from core.models import TaskSpec, TaskStatus
from tests.costs.test_budget_answers import spent_budgets
from tests.discord.conftest import World
from tests.discord.test_prompt_posts import open_prompt
from tests.inbox.test_inbox import fail_delivery

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


async def test_inbox_lists_the_queue_and_its_buttons_answer_each_item(world: World) -> None:
    service, server = world.service, world.server
    failed = await fail_delivery(service, "Agent-3", "please rebase")
    await service.tasks.create(TaskSpec("Pick a database", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    question = await service.questions.ask("T-1", "Which database?", "Agent-2")
    await service.store.write(
        "watch", alerts.open_alert, "Agent-2", alerts.STALLED, "Agent-2 stalled"
    )
    prompt = await open_prompt(service, "Edit main.py?")
    handle = await server.invoke_slash(world.user, "inbox")
    listed = await handle.wait_original()
    assert listed.content.startswith("✋ 4 item(s) need you, oldest first:")
    for line in (
        f"**D-{failed}** undelivered · Agent-3: message to Agent-3 failed after 1 attempt(s)",
        f"**Q-{question.id}** question · Agent-2 on T-1: Which database?",
        "**A-1** alert · Agent-2: Agent-2 stalled",
        f"**R-{prompt}** prompt · Agent-1: Edit main.py?",
    ):
        assert line in listed.content, line
    assert set(listed.custom_ids()) == {
        f"swarm:need:retry:D-{failed}",
        f"swarm:need:dismiss:D-{failed}",
        f"swarm:need:reply:Q-{question.id}",
        "swarm:need:handon:A-1",
        "swarm:need:reassign:A-1",
        "swarm:need:nudge:A-1",
        "swarm:need:cancel:A-1",
        *(f"swarm:need:option:R-{prompt}:{i}" for i in range(3)),
    }

    async def press(user: Any, custom_id: str) -> dict[str, object]:
        return (await (await server.click_button(user, listed, custom_id)).wait_callback()).data

    refused = await press(world.user, f"swarm:need:retry:D-{failed}")
    assert "admins only" in str(refused["content"])
    retried = await press(world.admin, f"swarm:need:retry:D-{failed}")
    assert retried["content"] == f"✅ D-{failed}: message to Agent-3 queued again"
    again = await press(world.admin, f"swarm:need:dismiss:D-{failed}")
    assert again["content"] == f"⚠️ D-{failed} is queued: only a failed delivery waits for you"
    assert int(str(again["flags"])) & 64  # ephemeral
    nudged = await press(world.admin, "swarm:need:nudge:A-1")
    assert nudged["content"] == "✅ A-1: Agent-2 nudged about T-1"
    chosen = await press(world.admin, f"swarm:need:option:R-{prompt}:1")
    assert chosen["content"] == f'✅ R-{prompt}: "Yes, and don\'t ask again" chosen for Agent-1'

    opened = await server.click_button(world.admin, listed, f"swarm:need:reply:Q-{question.id}")
    assert (await opened.wait_callback()).type == 9  # a form
    sent = await (
        await server.submit_modal(world.admin, opened, {"Answer": "Postgres"})
    ).wait_callback()
    assert sent.data["content"] == f"✅ Q-{question.id} answered: queued for Agent-2"
    assert (await service.questions.open_question("T-1")) is None

    handed = await press(world.admin, "swarm:need:handon:A-1")
    assert handed["content"] == "✅ A-1: T-1 taken from Agent-2, queued for another agent"
    assert (await service.tasks.get(1)).status is TaskStatus.ready
    audit = [(r.user_name, r.command) for r in await service.history.audit_rows()]
    assert ("boss", "button handon A-1") in audit and ("dev", f"button retry D-{failed}") in audit
    left = await (await server.invoke_slash(world.user, "inbox")).wait_callback()
    assert left.data["content"] == "✋ 1 item(s) need you, oldest first:\n" + (
        "**A-1** alert · Agent-2: Agent-2 stalled"
    )  # its task handed on: nothing to press; the alert clears itself
    assert not left.data.get("components")


async def test_reassign_opens_a_menu_of_the_other_agents_and_gives_the_task(
    world: World,
) -> None:
    service, server = world.service, world.server
    await service.tasks.create(TaskSpec("Fix the build", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    await service.store.write(
        "watch", alerts.open_alert, "Agent-2", alerts.STALLED, "Agent-2 stalled"
    )
    listed = await (await server.invoke_slash(world.user, "inbox")).wait_original()
    refused = await (
        await server.click_button(world.user, listed, "swarm:need:reassign:A-1")
    ).wait_callback()
    assert "admins only" in str(refused.data["content"])
    pressed = await server.click_button(world.admin, listed, "swarm:need:reassign:A-1")
    menu = await pressed.wait_original()
    assert menu.content == "Reassign A-1 to:" and menu.flags & 64  # only the presser sees it
    (select,) = [c for row in menu.components for c in row["components"]]
    offered = [o["value"] for o in select["options"]]
    assert "Agent-2" not in offered and "Agent-5" in offered  # not its holder
    chosen = await (
        await server.select_menu(world.admin, menu, "swarm:reassign:A-1", ["Agent-5"])
    ).wait_callback()
    assert chosen.data["content"] == "✅ A-1: T-1 reassigned from Agent-2 to Agent-5"
    assert (await service.tasks.get(1)).pinned == "Agent-5"
    audit = [(r.user_name, r.command) for r in await service.history.audit_rows()]
    assert ("boss", "button reassign A-1") in audit


async def test_a_spent_budget_is_raised_in_a_form_or_its_task_cancelled_from_inbox(
    world: World,
) -> None:
    service, server = world.service, world.server
    task_item, campaign_item, daily_item = await spent_budgets(service)
    listed = await (await server.invoke_slash(world.user, "inbox")).wait_original()
    assert set(listed.custom_ids()) == {  # the daily budget: nothing to press
        f"swarm:need:{a}:{ref}" for a in ("raise", "cancel") for ref in (task_item, campaign_item)
    }
    daily = next(x for x in listed.content.splitlines() if x.startswith(f"**{daily_item}**"))
    assert daily.endswith(  # no button: where it is raised instead
        "· raise daily\\_budget in Agent-4's [[agent]] table (the agents file: not "
        "from here), or wait for tomorrow (UTC)"
    ), daily

    async def raise_to(user: Any, ref: str, typed: str) -> dict[str, object]:
        opened = await server.click_button(user, listed, f"swarm:need:raise:{ref}")
        if (await opened.wait_callback()).type != 9:  # refused: no form
            return opened.callback.data  # type: ignore[union-attr]
        submitted = await server.submit_modal(user, opened, {"New budget in dollars": typed})
        return (await submitted.wait_callback()).data

    refused = await raise_to(world.user, task_item, "5")
    assert "admins only" in str(refused["content"])
    for typed, why in (
        ("lots", f"⚠️ {task_item}: 'lots' is not a number of dollars"),
        ("1.00", f"⚠️ {task_item}: $1.00 is not above the $1.05 T-1 spent: give more, or cancel"),
        ("-2", "⚠️ a budget is a number of dollars above 0, not -2.0"),
        ("nan", "⚠️ a budget is a number of dollars above 0, not nan"),
    ):
        said = await raise_to(world.admin, task_item, typed)
        assert said["content"] == why and int(str(said["flags"])) & 64
    assert (await service.costs.of_task(1))["budget"] == 1.0  # nothing written
    raised = await raise_to(world.admin, task_item, "$2.50")
    assert raised["content"] == f"✅ {task_item}: T-1's budget raised to $2.50 by discord:boss"
    assert (await service.costs.of_task(1))["budget"] == 2.5
    cancelled = (
        await (
            await server.click_button(world.admin, listed, f"swarm:need:cancel:{campaign_item}")
        ).wait_callback()
    ).data
    assert str(cancelled["content"]).startswith(f"✅ {campaign_item}: C-1 cancelled (1 unfinished")
    audit = [(r.user_name, r.command) for r in await service.history.audit_rows()]
    assert ("boss", f"button raise {task_item}") in audit
    assert ("boss", f"button cancel {campaign_item}") in audit
    assert ("dev", f"button raise {task_item}") in audit  # refused, audited too
    left = [n.ref for n in await service.inbox.needs() if n.kind == "budget"]
    assert left == [daily_item]
    item = await service.inbox.item(daily_item)
    assert item.actions == () and "the agents file: not from here" in item.hint


async def test_a_budget_of_unknown_spend_is_listed_unknown_never_zero(world: World) -> None:
    """Issue 79, item 8: a daily budget held because its agent's usage cannot be read."""
    from tests.costs.test_unknown_shown import held_by_unknown

    ref = await held_by_unknown(world.service)
    listed = await (await world.server.invoke_slash(world.user, "inbox")).wait_original()
    line = next(x for x in listed.content.splitlines() if x.startswith(f"**{ref}**"))
    assert "spent: unknown, of $5.00" in line and "$0.00 " not in line, line
