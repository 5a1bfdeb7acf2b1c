"""Issue 79, item 8: a cost that is not known is "unknown" wherever it is shown, never 0 tokens
or $0.00 (``swarm costs``' tables, a task's and a campaign's budget line, the needs-you item),
and an agent or an account with a daily budget whose turns' usage cannot be read (a wrapper
script's, ``cli_dir = ""``) is held from new work with one item saying why, said once, that
goes when the usage can be read or the budget is taken out (real store, both databases)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli.tasks import cost_lines
from bot.cli.watch import cost_tables
from core.costs import ledger
from core.event_kinds import EventKind
from core.models import Agent, TaskSpec
from core.service.swarm import SwarmService
from core.watch.usage_files import UsageFiles
from tests.costs.test_ledger import Journal, assigned, events, with_agents

pytestmark = pytest.mark.both_databases
WORK = "/srv/agents/T/work"


def wrapped(cli_dir: str = "", budget: str | None = None) -> Agent:
    """Claude Code in tmux behind a wrapper script (``cli_dir = ""``: its folder not known),
    with ``budget`` (``daily_budget`` or ``account_daily_budget``) of $0.00001."""
    daily = 0.00001 if budget == "daily_budget" else None
    account = 0.00001 if budget == "account_daily_budget" else None
    return Agent("T", "dev", cli="claude-code", delivery="tmux", cli_dir=cli_dir, workspace=WORK,
                 account="team", daily_budget=daily, account_daily_budget=account)  # fmt: skip


async def held_items(service: SwarmService) -> list[str]:
    return [n.text + " | " + n.hint for n in await service.inbox.needs() if n.kind == "budget"]


@pytest.mark.parametrize("budget", ["daily_budget", "account_daily_budget"])
async def test_a_budget_whose_usage_cannot_be_read_holds_with_one_item_until_known_or_removed(
    service: SwarmService, tmp_path: Path, budget: str
) -> None:
    config = tmp_path / "agents.toml"
    await service.replace_agents([wrapped(budget=budget)], config)
    usage = UsageFiles(service.store)
    for _ in range(4):  # every watch tick sees it: one item, one event, not a storm
        await usage.tick()
    (item,) = await held_items(service)
    name = "T" if budget == "daily_budget" else "team"
    assert item.startswith(f"{name}'s today's budget cannot be kept: its turns' usage cannot be "
                           "read (spent: unknown, of $0.00001)"), item  # fmt: skip
    assert "$0.0" not in item.replace("$0.00001", "") and "0 tokens" not in item
    assert "swarm agents explain" in item and "taken out of the agents file" in item
    assert len(await events(service, EventKind.BUDGET_REACHED)) == 1
    task = await service.tasks.create(TaskSpec("held", agent="T"), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(task.id)).agent is None
    why = await service.costs.why_waiting(task.id)
    assert why is not None and why.endswith(
        "its turns' usage cannot be read (spent: unknown, of $0.00001) (until its usage can "
        "be read, or the budget is taken out)"
    ), why

    folder = tmp_path / "claude"  # its usage made readable: a person set its cli_dir
    folder.mkdir()
    await service.replace_agents([wrapped(str(folder), budget)], config)
    assert await held_items(service) == []
    await service.queue.assign_batch()
    assert (await service.tasks.get(task.id)).agent == "T"
    await service.tasks.complete(task.ref, "T")

    await service.replace_agents([wrapped(budget=budget)], config)  # unknown again
    await usage.tick()
    assert len(await held_items(service)) == 1  # held again, not said again the same day
    assert len(await events(service, EventKind.BUDGET_REACHED)) == 1
    await service.replace_agents([wrapped()], config)  # the budget taken out
    await usage.tick()
    assert await held_items(service) == []
    later = await service.tasks.create(TaskSpec("free", agent="T"), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(later.id)).agent == "T"


async def test_tokens_and_shares_not_known_are_said_unknown_in_the_cli(
    service: SwarmService, tmp_path: Path
) -> None:
    """A turn whose usage is not known (Claude Code's turn end with none) in ``swarm costs``'
    tables: its tokens ``unknown``, not 0; beside known turns, ``N+``; a budget's share of a
    spend not known is ``spent: unknown``, not 0 %."""
    await with_agents(service, tmp_path)
    task_id = await assigned(service, "work", "P1")
    await service.costs.set_task_budget(task_id, 1.0, "test")
    await Journal(service, "P1").turn()  # no usage, no cost
    spend = await service.costs.spend()
    shown = cost_tables({"agent": spend["agent"]})
    (row,) = [line for line in shown.splitlines() if line.startswith("P1")]
    assert row.split()[1:6] == ["1", "unknown", "unknown", "unknown", "unknown"], row
    assert "unknown (1 turn(s) with no cost)" in row
    lines = cost_lines(await service.costs.of_task(task_id))
    assert lines.endswith("Budget:   $1.00, spent: unknown"), lines
    assert "0%" not in lines and "$0.0" not in lines

    some = ledger.Spent("P1", 3, 100, 20, 0, 0, 0.5, 1, no_usage=1)
    assert [some.count_text(n) for n in (100, 20)] == ["100+", "20+"]
    assert some.share_text(1.0) == "at least 50% spent"
    assert ledger.Spent("P1", 2, 100, 20, 0, 0, 0.5, 0).share_text(1.0) == "50% spent"
    assert ledger.Spent("T", 0, 0, 0, 0, 0, 0.0, 0).share_text(1.0, True) == "spent: unknown"


async def held_by_unknown(service: SwarmService) -> str:
    """Agent-4 of the bundled team made a wrapper script's Claude Code in tmux (its folder
    not known) with a daily budget of $5.00, held by the watch: its item's ref."""
    agents = [
        replace(a, cli="claude-code", delivery="tmux", cli_dir="", workspace=WORK,
                daily_budget=5.0) if a.id == "Agent-4" else a
        for a in service.agents.values()
    ]  # fmt: skip
    await service.replace_agents(agents, service.settings.config_path)
    await UsageFiles(service.store).tick()
    (item,) = [n for n in await service.inbox.needs() if n.kind == "budget"]
    assert "spent: unknown, of $5.00" in item.text, item.text
    return item.ref


async def test_desktop_status_says_a_day_of_unread_usage_unknown_never_zero(
    service: SwarmService, tmp_path: Path
) -> None:
    """``swarm desktop status``'s spend today: $0.00 only where the agent's turns are read;
    Aider's (no usage swarm reads) and a wrapper's not followed are "unknown"."""
    from bot.cli.desktop_status import rows

    folder = tmp_path / "claude"
    folder.mkdir()
    agents = [
        wrapped(),
        Agent("R", "dev", cli="claude-code", delivery="tmux", cli_dir=str(folder), workspace=WORK),
        Agent("Ai", "dev", cli="aider", delivery="tmux", workspace=WORK),
    ]
    await service.replace_agents(agents, tmp_path / "agents.toml")
    found = {row.agent: row.cost_today for row in await rows(service, agents, {}, False)}
    assert found == {"T": "unknown", "R": "$0.00", "Ai": "unknown"}
