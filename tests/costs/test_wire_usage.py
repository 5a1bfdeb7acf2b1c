"""Issue 78, item 3: a gateway agent's turns are booked from the gateway's usage records (the
ledger's source ``wire``), on the task held when each answer started, exactly once across
restarts of the reader; what its CLI reports (session files on the tmux route, the turn end
on the protocol route) is kept beside, not summed; a difference is one alert per agent per
day. Hostile lines are skipped. Records written by the gateway's own sink (real store,
SQLite and PostgreSQL, manual clock)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from automation.launch.gateway import JsonLinesSink, UsageRecord
from core.agents import list_alerts
from core.clis.claude_code.transcript import transcript_dir
from core.coordinator.scheduler import Scheduler
from core.costs import wire
from core.costs.usage import Usage
from core.costs.usage_place import WIRE_SAID, metered, usage_file, usage_said
from core.models import Agent, Sandbox
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import values
from core.watch.usage_files import UsageFiles
from core.watch.wire_usage import (
    MAX_READ_BYTES,
    USAGE_DIFFERS,
    WireUsage,
    _book,
    answers_of,
    read_chunk,
)
from tests.costs.test_ledger import CLAUDE, Journal, assigned, rows
from tests.helpers import RecordingDeliverer

pytestmark = pytest.mark.both_databases
DATA = Path(__file__).parent / "data"
WORK = "/tmp/h51/claude/root/work"  # the workspace of the Claude Code transcript below
MODEL = "claude-opus-5-5"


def _agent(delivery: str, **box: Any) -> Agent:
    agent = Agent("W", "dev", cli="claude-code", delivery=delivery, sandbox=Sandbox(**box))
    if delivery == "tmux":
        return dataclasses.replace(agent, tmux="s:1", workspace=WORK)
    return agent


def _sink(home: Path) -> JsonLinesSink:
    return JsonLinesSink(usage_file(home, "W").parent, usage_file(home, "W").name)


def _answer(
    sink: JsonLinesSink, at: float, usage: Usage | None, status: int = 200,
    tools: bool | None = None,
) -> None:  # fmt: skip
    sink(UsageRecord("W", "anthropic", "anthropic-messages", MODEL, usage, status, True, True,
                     at, at + 0.5, tools))  # fmt: skip


async def _said(service: SwarmService) -> list[tuple[Any, ...]]:
    def read(conn: Any) -> list[tuple[Any, ...]]:
        found = conn.execute(
            "SELECT source, known, input_tokens, output_tokens FROM reported_usage ORDER BY id"
        )
        return [values(r) for r in found]

    return await service.store.read(read)


async def _alerts(service: SwarmService) -> list[str]:
    found = await service.store.read(list_alerts, True, 100)
    return [a.text for a in found if a.kind == USAGE_DIFFERS]


async def test_who_is_metered() -> None:
    """Sandboxed with its own network (said, or its CLI's default) is metered; the host's
    network, no sandbox, a CLI with no gateway set-up, or a node's agent is not."""
    assert metered(_agent("protocol"))
    assert metered(_agent("tmux", network="model"))
    assert not metered(_agent("tmux", network="open"))
    assert not metered(dataclasses.replace(_agent("tmux"), sandbox=None))
    assert not metered(Agent("A", "dev", cli="qwen-code", sandbox=Sandbox()))
    assert not metered(dataclasses.replace(_agent("tmux"), node="laptop"))  # records there


async def test_tmux_route_answers_booked_once_and_the_transcript_kept_beside(
    service: SwarmService, clock: ManualClock, home: Path, tmp_path: Path
) -> None:
    """Two answers through the gateway, the CLI's transcript telling the same two turns:
    the ledger holds the gateway's two (on the task held), the transcript's are beside; a
    new reader (a restarted ``swarm run``) books nothing again; equal counts: no alert."""
    await service.replace_agents([_agent("tmux")], tmp_path / "agents.toml")
    cli_home = tmp_path / "cli-home"
    dirs = {"claude-code": cli_home}
    service.store.settings = dataclasses.replace(service.settings, cli_dirs=dirs)
    assert usage_said(service.store.agents["W"], {}, home) == WIRE_SAID
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0  # its first look at the transcripts: none yet
    task = await assigned(service, "work", "W")
    sink = _sink(home)
    _answer(sink, clock.now(), Usage(4321, 87))
    _answer(sink, clock.now() + 1, Usage(5000, 13))
    folder = transcript_dir(cli_home, WORK)
    folder.mkdir(parents=True)
    shutil.copy(DATA / "claude-code-2.1.328-tmux-transcript.jsonl", folder / "s.jsonl")
    clock.advance(5)
    assert await watch.tick() == 4  # the gateway's two booked, the transcript's two beside
    found = await rows(service)
    assert [(r["source"], r["task_id"], r["input_tokens"], r["output_tokens"], r["model"])
            for r in found] == [("wire", task, 4321, 87, MODEL),
                                ("wire", task, 5000, 13, MODEL)]  # fmt: skip
    assert await _said(service) == [("transcript", 1, 4321, 87), ("transcript", 1, 5000, 13)]
    assert (await service.costs.of_task(task))["cost"].input == 9321  # summed once
    assert await WireUsage(service.store).tick() == 0  # restarted: nothing booked again
    clock.advance(wire.SETTLE_S)
    await watch.tick()
    assert await _alerts(service) == []
    _answer(sink, clock.now(), Usage(10, 2))
    assert await WireUsage(service.store).tick() == 1  # only the new line
    sink.close()


async def test_protocol_route_difference_is_one_alert_a_day(
    service: SwarmService, clock: ManualClock, home: Path, tmp_path: Path
) -> None:
    """The CLI's turn end says less than the gateway counted (a side request it does not
    report): one alert, not one per turn; the next day's difference a new one."""
    await service.replace_agents([_agent("protocol")], tmp_path / "agents.toml")
    task = await assigned(service, "work", "W")
    journal, sink, watch = Journal(service, "W"), _sink(home), WireUsage(service.store)
    for turn in range(2):
        _answer(sink, clock.now(), Usage(1200, 300, 5000, 700))
        _answer(sink, clock.now(), Usage(80, 10))  # e.g. a title made by a small model
        await journal.turn(usage=CLAUDE, meta={"model": MODEL})
        assert await watch.tick() == 2
        assert len(await _alerts(service)) == turn  # this turn's not settled yet
        clock.advance(wire.SETTLE_S)
        await watch.tick()
    said = await _alerts(service)
    assert len(said) == 1 and "1,280 input" in said[0] and "1,200 input" in said[0]
    assert [r[:2] for r in await _said(service)] == [("protocol", 1), ("protocol", 1)]
    assert (await service.costs.of_task(task))["cost"].input == 2560
    clock.advance(86_400)
    _answer(sink, clock.now(), Usage(1, 1))
    await journal.turn(usage=CLAUDE)
    await watch.tick()
    clock.advance(wire.SETTLE_S)
    await watch.tick()
    assert len(await _alerts(service)) == 2
    sink.close()


async def test_side_requests_are_booked_and_left_out_of_the_comparison(
    service: SwarmService, clock: ManualClock, home: Path, tmp_path: Path
) -> None:
    """The gateway says which requests offered the model tools: a CLI's side request (a
    title, Gemini CLI's router) offered none, and no CLI's report tells it. It is booked
    (``wire_side``: its cost counts) and left out of the comparison: equal, no alert. An
    answer of the conversation that the report tells otherwise is still the day's alert."""
    await service.replace_agents([_agent("protocol")], tmp_path / "agents.toml")
    task = await assigned(service, "work", "W")
    journal, sink, watch = Journal(service, "W"), _sink(home), WireUsage(service.store)
    _answer(sink, clock.now(), Usage(1200, 300, 5000, 700), tools=True)
    _answer(sink, clock.now(), Usage(80, 10), tools=False)  # the session's title
    await journal.turn(usage=CLAUDE, meta={"model": MODEL})
    assert await watch.tick() == 2
    clock.advance(wire.SETTLE_S)
    await watch.tick()
    assert await _alerts(service) == []
    assert [(r["source"], r["input_tokens"]) for r in await rows(service)] == [
        ("wire", 1200), ("wire_side", 80),
    ]  # fmt: skip
    assert (await service.costs.of_task(task))["cost"].input == 1280  # the side one counts
    _answer(sink, clock.now(), Usage(1300, 300, 5000, 700), tools=True)  # not as reported
    await journal.turn(usage=CLAUDE, meta={"model": MODEL})
    await watch.tick()
    clock.advance(wire.SETTLE_S)
    await watch.tick()
    said = await _alerts(service)
    assert len(said) == 1 and "1,300 input" in said[0] and "1,200 input" in said[0], said
    sink.close()


@pytest.mark.parametrize("how", ["stop", "cancel"])
async def test_turns_holding_a_stopped_one_differ_without_an_alert_and_later_ones_alert(
    service: SwarmService,
    clock: ManualClock,
    home: Path,
    tmp_path: Path,
    deliverer: RecordingDeliverer,
    how: str,
) -> None:
    """Issue 79: a person stops a turn (``agents stop``, or its task's cancel: a
    withdrawal); the gateway counted the request the stop cancelled (the model was asked),
    the CLI's turn end leaves it out: no alert for those turns, the ledger books the
    gateway's count; turns after, with no stop among them, that differ (a side request the
    CLI does not report) are the day's alert."""
    await service.replace_agents([_agent("protocol")], tmp_path / "agents.toml")
    task = await assigned(service, "work", "W")
    assert (await Scheduler(service, deliverer).run_burst()).delivered == 1  # its prompt
    journal, sink, watch = Journal(service, "W"), _sink(home), WireUsage(service.store)
    _answer(sink, clock.now(), Usage(1200, 300, 5000, 700))  # the turn's first request
    _answer(sink, clock.now() + 0.5, Usage(900, 1))  # the one the stop cancelled
    clock.advance(1)
    if how == "stop":
        await service.roster.stopped("W", "the host's cancel", "me")
    else:
        await service.tasks.cancel(f"T-{task}", "me")
    await journal.turn(usage=CLAUDE, meta={"model": MODEL})
    assert await watch.tick() == 2
    clock.advance(wire.SETTLE_S)
    await watch.tick()
    assert await _alerts(service) == []
    assert (await service.costs.of_task(task))["cost"].input == 2100  # the gateway's
    clock.advance(5)
    _answer(sink, clock.now(), Usage(1200, 300, 5000, 700))
    _answer(sink, clock.now(), Usage(80, 10))  # e.g. a title made by a small model
    await journal.turn(usage=CLAUDE, meta={"model": MODEL})
    await watch.tick()
    clock.advance(wire.SETTLE_S)
    await watch.tick()
    said = await _alerts(service)
    assert len(said) == 1 and "1,280 input" in said[0], said
    sink.close()


async def test_a_turn_of_unknown_usage_is_not_compared(
    service: SwarmService, clock: ManualClock, home: Path, tmp_path: Path
) -> None:
    """A turn end that says no usage is kept as unknown and not compared; an answer the
    gateway could not read is a turn of unknown usage; an error without usage none."""
    await service.replace_agents([_agent("protocol")], tmp_path / "agents.toml")
    journal, sink, watch = Journal(service, "W"), _sink(home), WireUsage(service.store)
    _answer(sink, clock.now(), None)
    _answer(sink, clock.now(), None, status=529)
    await journal.turn(meta={"model": MODEL})
    assert await watch.tick() == 1
    clock.advance(wire.SETTLE_S)
    await watch.tick()
    assert await _alerts(service) == []
    assert [(r["source"], r["cost_from"]) for r in await rows(service)] == [("wire", "no_usage")]
    assert await _said(service) == [("protocol", 0, 0, 0)]
    sink.close()


_RECORD = {"agent": "W", "status": 200, "started": 1.8e9, "ended": 1.8e9 + 1, "model": "m"}
HOSTILE = [
    b"not json",
    b'{"agent": "OTHER", "status": 200, "started": 1800000000, "ended": 1800000001}',
    b"[1, 2]",
    *(
        json.dumps(dict(_RECORD, usage=usage)).encode()
        for usage in (
            {"input": -1, "output": 0, "cache_read": 0, "cache_write": 0},
            {"input": True, "output": 0, "cache_read": 0, "cache_write": 0},
            {"input": 10**13, "output": 0, "cache_read": 0, "cache_write": 0},
            {"input": 1.5, "output": 0, "cache_read": 0, "cache_write": 0},
            {"input": 1, "output": 0, "cache_read": 0},
            {"input": 1, "output": 0, "cache_read": 0, "cache_write": 0, "more": 1},
            "1000",
        )
    ),
    json.dumps({"agent": "W", "status": 200, "started": "x", "ended": 1}).encode(),
    json.dumps({"agent": "W", "status": 200, "started": 1.8e9, "ended": 1e300}).encode(),
    json.dumps({"agent": "W", "status": 200, "started": 1.8e9 + 9, "ended": 1.8e9}).encode(),
    json.dumps({"agent": "W", "status": 999, "started": 1.8e9, "ended": 1.8e9}).encode(),
    b'{"agent": "W", "status": 200, "started": NaN, "ended": 1800000000}',
    b"[" * 100_000,
    b'{"agent": "W", "pad": "' + b"x" * (MAX_READ_BYTES // 2) + b'"}',
]


async def test_hostile_lines_are_skipped_and_the_good_one_booked(
    service: SwarmService, clock: ManualClock, home: Path, tmp_path: Path
) -> None:
    """Each line that is no record of this agent's with whole counts and sane times is
    skipped; a line longer than a read is passed; the good records around them are booked;
    a link in place of the file is not followed."""
    await service.replace_agents([_agent("tmux")], tmp_path / "agents.toml")
    path = usage_file(home, "W")
    path.parent.mkdir(parents=True)
    good = {"agent": "W", "status": 200, "started": clock.now(), "ended": clock.now(),
            "model": "m\x00x", "usage": {"input": 7, "output": 1, "cache_read": 0,
                                           "cache_write": 0}}  # fmt: skip
    huge = b"y" * (MAX_READ_BYTES + 10)  # no record, longer than one read
    path.write_bytes(b"\n".join([json.dumps(good).encode(), *HOSTILE, huge,
                                 json.dumps(good).encode()]) + b"\n")  # fmt: skip
    watch = WireUsage(service.store)
    for _ in range(4):
        await watch.tick()
    found = await rows(service)
    assert [(r["input_tokens"], r["model"]) for r in found] == [(7, None), (7, None)]
    elsewhere = tmp_path / "elsewhere.jsonl"
    os.rename(path, elsewhere)
    path.symlink_to(elsewhere)
    assert await watch.tick() == 0


async def test_a_replaced_file_is_read_from_its_start_and_a_stale_read_books_nothing(
    service: SwarmService, clock: ManualClock, home: Path, tmp_path: Path
) -> None:
    """The gateway's folder made anew (another file, shorter): its records are read from
    their start, none lost; a reader whose read began where the booking no longer stands
    (another reader booked it first) books nothing."""
    await service.replace_agents([_agent("tmux")], tmp_path / "agents.toml")
    watch, path = WireUsage(service.store), usage_file(home, "W")
    sink = _sink(home)
    _answer(sink, clock.now(), Usage(100, 10))
    _answer(sink, clock.now(), Usage(200, 20))
    sink.close()
    stale = read_chunk(path, "", 0)
    assert stale is not None and len(stale.lines) == 2
    assert await watch.tick() == 2
    answers, _ = answers_of("W", stale)
    assert await service.store.write("W", _book, "W", stale, answers) == -1  # booked since
    path.unlink()
    sink = _sink(home)
    _answer(sink, clock.now() + 1, Usage(7, 1))
    sink.close()
    assert await watch.tick() == 1
    assert [r["input_tokens"] for r in await rows(service)] == [100, 200, 7]
