"""Issue 51, items 4 and 5: each protocol turn's usage goes to the cost ledger once, with its
task, agent, account, CLI and model; its cost is the CLI's, else the price table's, else
unknown (counted so); the sums per task, agent, account, CLI and day; a task's budget and an
agent's daily budget post at 80 %, stop new work at 100 % with a needs-you item, and a turn of
unknown cost is said (real store, SQLite and PostgreSQL, manual clock)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.agents import _protocol_events as protocol_events
from core.agents._judge import Freshness
from core.costs import ledger, prices
from core.costs.usage import Usage
from core.delivery._message_queries import task_of_delivery
from core.errors import ConfigError, InvalidInput
from core.event_kinds import EventKind
from core.hosts.entries import read
from core.models import Agent, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import values
from tests.helpers import run_cli

pytestmark = pytest.mark.both_databases

HOST = 4242
CLAUDE = {  # a Claude Code stream-json result's usage and cost
    "input_tokens": 1200, "output_tokens": 300, "cache_read_input_tokens": 5000,
    "cache_creation_input_tokens": 700,
}  # fmt: skip
ACP = {"inputTokens": 1000, "outputTokens": 500, "totalTokens": 1500}  # an ACP prompt's usage


async def with_agents(service: SwarmService, tmp_path: Path, budget: float | None = None) -> None:
    agents = [
        Agent("P1", "dev", cli="claude-code", account="team", delivery="inbox",
              daily_budget=budget),
        Agent("P2", "dev", cli="gemini", delivery="inbox"),
    ]  # fmt: skip
    await service.replace_agents(agents, tmp_path / "agents.toml")


class Journal:
    """A protocol host's journal entries for one agent, numbered as the host numbers them."""

    def __init__(self, service: SwarmService, agent: str) -> None:
        self.service, self.agent, self.seq = service, agent, 0
        self.delivery: int | None = None

    async def turn(self, *, delivered: bool = True, **end: Any) -> None:
        """A prompt taken and its turn's end (``end``: usage, cost_usd, meta...), naming the
        delivery that started it as the host does: the newest to the agent (its task's
        prompt; None when nothing was delivered to it, or not ``delivered``: a prompt swarm
        did not send)."""
        newest = await self.service.store.read(newest_delivery, self.agent)
        self.delivery = delivery = newest if delivered else None
        entries = []
        for kind, fields in (("turn", {}), ("turn_end", {"stop_reason": "end_turn", **end})):
            self.seq += 1
            entries.append({"seq": self.seq, "type": kind, "delivery": delivery, **fields})
        await self.again(entries)

    async def again(self, entries: list[dict[str, Any]]) -> None:
        await self.service.store.write(
            self.agent,
            protocol_events.record,
            self.agent,
            HOST,
            [read(e) for e in entries],
            Freshness(),
            task_of_delivery,
        )


def newest_delivery(conn: Any, agent: str) -> int | None:
    row = conn.execute(
        "SELECT max(id) AS id FROM deliveries WHERE agent_id = $1", (agent,)
    ).fetchone()
    return None if row is None or row["id"] is None else int(row["id"])


async def rows(service: SwarmService) -> list[dict[str, Any]]:
    def read(conn: Any) -> list[dict[str, Any]]:
        found = conn.execute(
            "SELECT task_id, agent, account, cli, model, source, input_tokens, output_tokens, "
            "cache_read_tokens, cache_write_tokens, cost_usd, cost_from FROM turn_usage "
            "ORDER BY id"
        ).fetchall()
        return [dict(zip(r.keys(), values(r), strict=True)) for r in found]

    return await service.store.read(read)


async def assigned(service: SwarmService, title: str, agent: str) -> int:
    task = await service.tasks.create(TaskSpec(title, agent=agent), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(task.id)).agent == agent
    return task.id


async def events(service: SwarmService, kind: EventKind) -> list[str]:
    return [e.text for e in await service.history.events(limit=1000) if e.kind == kind]


async def test_a_protocol_turn_is_recorded_once_with_its_task_and_the_clis_cost(
    service: SwarmService, tmp_path: Path
) -> None:
    await with_agents(service, tmp_path)
    task_id = await assigned(service, "work", "P1")
    journal = Journal(service, "P1")
    meta = {"total_cost_usd": 0.0123, "model": "claude-sonnet-4-5-20250929"}
    await journal.turn(usage=CLAUDE, cost_usd=0.0123, meta=meta)
    again = {"seq": 2, "type": "turn_end", "delivery": journal.delivery, "usage": CLAUDE}
    await journal.again([again])  # read again: not counted twice
    assert await rows(service) == [
        {"task_id": task_id, "agent": "P1", "account": "team", "cli": "claude-code",
         "model": "claude-sonnet-4-5-20250929", "source": "protocol", "input_tokens": 1200,
         "output_tokens": 300, "cache_read_tokens": 5000, "cache_write_tokens": 700,
         "cost_usd": pytest.approx(0.0123), "cost_from": "cli"},
    ]  # fmt: skip
    spend = await service.costs.of_task(task_id)
    assert spend["cost"].turns == 1 and spend["cost"].cost_text() == "$0.0123"


async def test_a_turn_without_a_cost_is_priced_from_the_table_or_counted_unknown(
    service: SwarmService, tmp_path: Path
) -> None:
    await with_agents(service, tmp_path)
    journal = Journal(service, "P2")  # holds no task
    await journal.turn(usage=ACP, meta={"model": "local-model"})
    await journal.turn(usage=ACP)  # no model said: no price
    await journal.turn(meta={"model": "local-model"})  # no usage, no cost: both unknown
    found = await rows(service)
    assert [(r["cost_usd"], r["cost_from"]) for r in found] == [
        (pytest.approx(1000 * 1.0 / 1e6 + 500 * 2.0 / 1e6), "price"),
        (None, None),
        (None, "no_usage"),  # never priced as no tokens: a cost of 0
    ]
    assert {r["account"] for r in found} == {"gemini-default"}  # no credential seen
    assert found[0]["task_id"] is None
    by_agent = (await service.costs.spend())["agent"]
    assert [(s.key, s.turns, s.input, s.unknown) for s in by_agent] == [("P2", 3, 2000, 2)]
    assert by_agent[0].cost_text() == "$0.0020 + 2 turn(s) of unknown cost"


async def test_a_turn_a_stop_cut_is_of_unknown_usage_never_its_short_report(
    service: SwarmService, tmp_path: Path
) -> None:
    """Issue 79: a turn end whose stop reason is ``cancelled`` (a person's stop, a
    withdrawal) says less than was spent (the cancelled request is in no report): a turn
    of unknown usage and cost, not the figures it said."""
    await with_agents(service, tmp_path)
    task_id = await assigned(service, "work", "P1")
    journal = Journal(service, "P1")
    await journal.turn(stop_reason="cancelled", usage=CLAUDE, cost_usd=0.01)
    await journal.turn(usage=CLAUDE, cost_usd=0.0123)
    spent = (await service.costs.of_task(task_id))["cost"]
    assert (spent.turns, spent.no_usage, spent.unknown, spent.input) == (2, 1, 1, 1200)
    assert spent.cost_text() == "$0.0123 + 1 turn(s) of unknown cost"


async def test_the_sums_per_task_agent_account_cli_and_day(
    service: SwarmService, tmp_path: Path, clock: ManualClock
) -> None:
    await with_agents(service, tmp_path)
    task_id = await assigned(service, "work", "P1")
    await Journal(service, "P1").turn(usage=CLAUDE, cost_usd=0.5)
    p2 = Journal(service, "P2")
    await p2.turn(usage=ACP, meta={"model": "local-model"})
    clock.advance(86400)
    await p2.turn(usage=ACP, cost_usd=0.25)
    spend = await service.costs.spend()
    keyed = {d: {s.key: round(s.cost_usd, 6) for s in rows} for d, rows in spend.items()}
    assert keyed["task"] == {f"T-{task_id}": 0.5, "(none)": 0.252}
    assert keyed["agent"] == {"P1": 0.5, "P2": 0.252}
    assert keyed["account"] == {"team": 0.5, "gemini-default": 0.252}
    assert keyed["cli"] == {"claude-code": 0.5, "gemini": 0.252}
    assert sorted(keyed["day"].values()) == [0.25, 0.502]
    since = (await service.costs.spend(clock.now() - 10))["agent"]
    assert [(s.key, s.turns) for s in since] == [("P2", 1)]


async def test_the_sums_per_campaign_count_its_tasks_turns_and_swarm_stats_shows_them(
    service: SwarmService, tmp_path: Path, home: Path
) -> None:
    """A campaign's sums are its tasks' turns; a turn on a task of no campaign, or on no
    task, is under ``(none)``; ``swarm stats`` (a real CLI process) shows them."""
    from core.workflows import WorkflowBook

    await with_agents(service, tmp_path)
    first = await service.tasks.create(TaskSpec("first", agent="P1"), "test")
    second = await service.tasks.create(TaskSpec("second", agent="P1"), "test")
    other = await service.tasks.create(TaskSpec("other", agent="P1"), "test")
    outside = await service.tasks.create(TaskSpec("outside", agent="P2"), "test")
    flows = WorkflowBook(service.store)
    big = await flows.create_campaign("big", [first.ref, second.ref], "test")
    small = await flows.create_campaign("small", [other.ref], "test")
    journal, p2 = Journal(service, "P1"), Journal(service, "P2")
    await service.queue.assign_batch()
    for task, cost in ((first, 0.5), (second, 0.25), (other, None)):
        assert (await service.tasks.get(task.id)).agent == "P1"
        await journal.turn(usage=CLAUDE, cost_usd=cost)
        await service.tasks.complete(task.id, "P1")
        await service.queue.assign_batch()
    await p2.turn(usage=ACP, cost_usd=0.125)  # on ``outside``
    await service.tasks.complete(outside.id, "P2")
    await p2.turn(usage=ACP, cost_usd=0.0625)  # on no task
    by_campaign = (await service.costs.spend())["campaign"]
    assert [(s.key, s.turns, s.unknown, round(s.cost_usd, 6)) for s in by_campaign] == [
        (f"C-{big}", 2, 0, 0.75), ("(none)", 2, 0, 0.1875), (f"C-{small}", 1, 1, 0.0),
    ]  # fmt: skip
    assert by_campaign[0].input == 2 * CLAUDE["input_tokens"]
    shown = run_cli(home, "stats", "--json")
    assert shown.code == 0, shown.err
    listed = json.loads(shown.out)["cost"]["by_campaign"]
    assert [(c["key"], c["turns"], c["cost_usd"]) for c in listed] == [
        (f"C-{big}", 2, 0.75), ("(none)", 2, 0.1875), (f"C-{small}", 1, 0.0),
    ]  # fmt: skip
    table = run_cli(home, "stats").out
    assert "Cost by campaign:" in table
    row = next(line for line in table.splitlines() if line.startswith(f"C-{small} "))
    assert row.endswith("unknown (1 turn(s) with no cost)")


async def test_a_tasks_budget_warns_at_80_stops_at_100_and_a_raise_lets_it_go_on(
    service: SwarmService, tmp_path: Path
) -> None:
    await with_agents(service, tmp_path)
    task_id = await service.costs.create_task(TaskSpec("budgeted", agent="P1"), "test", 1.0)
    await service.queue.assign_batch()
    journal = Journal(service, "P1")
    await journal.turn(usage=CLAUDE, cost_usd=0.5)
    assert await events(service, EventKind.BUDGET_WARNED) == []
    await journal.turn(usage=CLAUDE, cost_usd=0.35)
    await journal.turn(usage=CLAUDE, cost_usd=0.01)  # still 86 %: said once
    warned = await events(service, EventKind.BUDGET_WARNED)
    assert len(warned) == 1 and f"T-{task_id}'s budget is 85% spent" in warned[0]
    await journal.turn(usage=CLAUDE, cost_usd=0.2)
    reached = await events(service, EventKind.BUDGET_REACHED)
    assert len(reached) == 1 and "is spent: $1.06 of $1.00" in reached[0]
    items = [n for n in await service.inbox.needs() if n.kind == "budget"]
    assert len(items) == 1 and items[0].task == f"T-{task_id}"
    assert "swarm task budget" in items[0].hint
    # the task back in the queue gets no new turn while its budget is spent
    await service.tasks.requeue(task_id, "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(task_id)).agent is None
    assert "gets no new turn" in (await service.costs.why_waiting(task_id) or "")
    await service.costs.set_task_budget(task_id, 5.0, "test")
    assert await service.costs.why_waiting(task_id) is None
    assert [n for n in await service.inbox.needs() if n.kind == "budget"] == []
    await service.queue.assign_batch()
    assert (await service.tasks.get(task_id)).agent is not None  # it goes on


async def test_an_agents_daily_budget_stops_its_new_work(
    service: SwarmService, tmp_path: Path
) -> None:
    await with_agents(service, tmp_path, budget=0.4)
    first = await assigned(service, "first", "P1")
    await Journal(service, "P1").turn(usage=CLAUDE, cost_usd=0.45)
    await service.tasks.complete(first, "P1")
    later = await service.tasks.create(TaskSpec("later", agent="P1"), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(later.id)).agent is None
    items = [n for n in await service.inbox.needs() if n.kind == "budget"]
    assert len(items) == 1 and items[0].agent == "P1"
    assert "today's budget is spent: $0.4500 of $0.40" in items[0].text


async def test_a_turn_of_unknown_cost_under_a_budget_is_said(
    service: SwarmService, tmp_path: Path
) -> None:
    await with_agents(service, tmp_path)
    task_id = await service.costs.create_task(TaskSpec("budgeted", agent="P2"), "test", 1.0)
    await service.queue.assign_batch()
    p2 = Journal(service, "P2")
    await p2.turn(usage=ACP)  # no model, no cost
    await p2.turn(usage=ACP)
    said = await events(service, EventKind.BUDGET_WARNED)
    assert len(said) == 1
    assert f"T-{task_id}'s budget cannot be followed exactly" in said[0]
    assert "unknown (1 turn(s) with no cost)" in said[0]


async def test_an_agents_daily_budget_with_a_turn_of_unknown_cost_holds_its_new_work(
    service: SwarmService, tmp_path: Path
) -> None:
    """Issue 64: a turn of unknown usage under an agent's daily budget (a protocol turn whose
    usage no one said) cannot be counted, so that budget cannot be kept: the agent gets no
    new task and a person is asked; task show says the turn's tokens are unknown, not 0."""
    await with_agents(service, tmp_path, budget=100.0)
    first = await assigned(service, "first", "P1")
    await Journal(service, "P1").turn()  # its turn's end says no usage, no cost
    shown = await run_task_show(service, first)
    assert "Cost:     unknown (1 turn(s) with no cost) (1 turn(s): unknown tokens)" in shown
    await service.tasks.complete(first, "P1")
    later = await service.tasks.create(TaskSpec("later", agent="P1"), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(later.id)).agent is None
    (item,) = [n for n in await service.inbox.needs() if n.kind == "budget"]
    assert item.agent == "P1" and "today's budget cannot be kept" in item.text, item.text
    assert "swarm costs reprice" in item.hint
    spend = await service.costs.of_task(first)
    assert spend["turns"][0]["input_tokens"] is None


async def run_task_show(service: SwarmService, task_id: int) -> str:
    from bot.cli.tasks import cost_lines

    return cost_lines(await service.costs.of_task(task_id))


async def test_a_bad_budget_is_refused_and_nothing_is_written(service: SwarmService) -> None:
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidInput):
            await service.costs.create_task(TaskSpec("no"), "test", bad)
    assert await service.tasks.newest() == []


def test_the_price_table_parses_and_a_users_file_overrides_it(tmp_path: Path) -> None:
    own = prices.table(None)
    assert own["local-model"] == prices.Price(1.0, 2.0, 0.1, 1.25)
    assert prices.price_of(own, "claude-sonnet-4-5-20250929") == own["claude-sonnet-4-5"]
    assert prices.price_of(own, "nobody's-model") is None
    assert prices.price_of(own, "claude-opus-5-7") is None  # not claude-opus-5's price
    assert prices.price_of(own, "claude-opus-5-5[1m]") == own["claude-opus-5-5"]
    for model in ("claude-opus-5-5", "gemini-3.8-flash"):  # the pinned CLIs' own models
        assert prices.price_of(own, model) is not None, model
    mine = tmp_path / "prices.toml"
    mine.write_text('[models."local-model"]\ninput = 3\noutput = 4\n', encoding="utf-8")
    assert prices.table(mine)["local-model"] == prices.Price(3.0, 4.0)
    bad = tmp_path / "bad.toml"
    bad.write_text('[models."x"]\ninput = -1\noutput = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="model 'x': input must be dollars"):
        prices.check(bad)


def test_hostile_usage_counts_only_whole_token_numbers() -> None:
    raw = {"input_tokens": -5, "output_tokens": True, "cache_read_input_tokens": 10**13,
           "inputTokens": 7, "cache_creation_input_tokens": 3}  # fmt: skip
    assert Usage.from_wire(raw) == Usage(cache_write=3)
    assert Usage.from_wire("not a dict") is None
    assert ledger.given_cost(float("nan")) is None and ledger.given_cost(-1) is None
    assert ledger.given_cost(0.5) == 0.5


async def test_metrics_show_the_turns_tokens_and_cost_by_agent_and_account(
    service: SwarmService, tmp_path: Path
) -> None:
    from bot.web.metrics import Metrics

    await with_agents(service, tmp_path)
    await Journal(service, "P1").turn(usage=CLAUDE, cost_usd=0.5)
    await Journal(service, "P2").turn(usage=ACP)
    text = (await Metrics().render(service)).decode()
    assert 'swarm_turn_cost_usd_total{account="team",agent="P1"} 0.5' in text
    assert 'swarm_turn_tokens_total{account="team",agent="P1",kind="cache_read"} 5000.0' in text
    assert 'swarm_turns_unknown_cost_total{account="gemini-default",agent="P2"} 1.0' in text


async def test_a_price_added_while_swarm_runs_prices_the_earlier_turns(
    service: SwarmService, tmp_path: Path
) -> None:
    """Issue 64: a turn of a model the table lacks is unknown; a SWARM_PRICES file written
    while swarm runs is read at the next turn without a restart, and the earlier turns are
    priced by the usage watch's next tick and by ``swarm costs reprice``, told how many."""
    import dataclasses

    from core.watch.usage_files import UsageFiles

    user = tmp_path / "prices.toml"
    service.store.settings = dataclasses.replace(service.settings, prices_file=user)
    await with_agents(service, tmp_path)
    journal = Journal(service, "P2")
    await journal.turn(usage=ACP, meta={"model": "gemini-9-unlisted"})
    watch = UsageFiles(service.store)
    await watch.tick()  # the first tick: nothing to price
    assert [r["cost_usd"] for r in await rows(service)] == [None]
    user.write_text('[models."gemini-9-unlisted"]\ninput = 2.0\noutput = 12.0\n')
    await journal.turn(usage=ACP, meta={"model": "gemini-9-unlisted"})  # no restart
    await watch.tick()  # the file changed: the earlier turn priced
    cost = 1000 * 2.0 / 1e6 + 500 * 12.0 / 1e6
    assert [r["cost_usd"] for r in await rows(service)] == [pytest.approx(cost)] * 2
    await journal.turn(usage=ACP, meta={"model": "gemini-9-other"})
    assert await service.costs.reprice("test") == 0
    user.write_text(user.read_text() + '[models."gemini-9-other"]\ninput = 1.0\noutput = 1.0\n')
    assert await service.costs.reprice("test") == 1
    if service.settings.database_url:  # the command's part on the SQLite file (its home's)
        return
    said = run_cli(service.settings.home, "costs", "reprice")
    assert said.code == 0 and said.out == "no turn of unknown cost has a price now\n", said
    shown = run_cli(service.settings.home, "costs", "--json")
    assert shown.code == 0, shown.err
    found = json.loads(shown.out)
    assert found["by_agent"][0]["key"] == "P2" and found["by_agent"][0]["turns"] == 3
    assert {"by_account", "by_task", "by_day"} <= set(found)
