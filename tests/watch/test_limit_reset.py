"""A usage limit's reset from an agent's pane can never stop the swarm (issue 40, items 1 and
9): an absurd "try again in 99999999999999999999 days" is no reset shown (a backoff), a row
already stored with one reads as such, every time is formatted for any value, and one agent
that cannot be judged is held on its own while the others get their tasks (real tmux panes,
the real scheduler, watcher and store, both databases; ``swarm status`` as a subprocess)."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.cli.format import status_text
from bot.discordbot.embeds import status_embed
from bot.web.app import create_app
from bot.web.settings import WebSettings
from core.agent_state import AgentState, Observation, Signal
from core.agents import _signals as agent_signals
from core.agents._alerts import list_alerts
from core.agents._limit_probes import PROBE_FIRST_S
from core.agents._text_rules import load_rule_sets
from core.coordinator.jobs import Watcher
from core.coordinator.scheduler import Scheduler
from core.formats.jsonshape import shaped
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import Conn
from core.watch.text_signal import TextWatcher
from tests.helpers import RecordingDeliverer, run_cli, write_agents
from tests.tmux_server import Tmux, wait_text
from tests.watch.conftest import watch_settings
from tests.web.conftest import bearer, make_token

pytestmark = pytest.mark.both_databases

ABSURD = "99999999999999999999 days"
CODEX = f"■ You've hit your usage limit. Upgrade to Pro or try again in {ABSURD}."
WEEK = 7 * 24 * 3600.0  # the longest a usage limit holds (docs/agent-state.md)
GEMINI = f"✕ You have reached your daily gemini-2.5-pro quota limit. Please retry in {ABSURD}."


@pytest.fixture
def agents_file(tmp_path: Path, tmux: Tmux) -> Path:
    """A (Codex) and G (Gemini) in tmux panes, N (any CLI: every rule file) in one too, B
    and C (three tasks each) without a pane."""
    sock = str(tmux.socket)
    return write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "A", "role": "dev", "tmux": "swarm:a", "tmux_socket": sock, "cli": "codex"},
            {"id": "G", "role": "dev", "tmux": "swarm:g", "tmux_socket": sock, "cli": "gemini"},
            {"id": "N", "role": "dev", "tmux": "swarm:n", "tmux_socket": sock},
            {"id": "B", "role": "dev", "capacity": 3},
            {"id": "C", "role": "dev", "capacity": 3},
        ],
    )


@pytest.fixture
def pane_settings(settings: Settings, agents_file: Path) -> Settings:
    """The test database (SQLite or PostgreSQL) with the agents above."""
    return dataclasses.replace(settings, config_path=agents_file)


@pytest.fixture
async def panes_service(pane_settings: Settings, clock: ManualClock) -> AsyncIterator[SwarmService]:
    service = await SwarmService.open(pane_settings, clock)
    yield service
    await service.close()


def show_line(line: str) -> str:
    """A pane command printing ``line`` (then an idle prompt below it), then waiting."""
    return f"printf '%s\\n\\n› \\n' \"{line}\"; sleep 600"


async def add_tasks(service: SwarmService, count: int) -> list[int]:
    return [(await service.tasks.create(TaskSpec(f"work {i}"), "test")).id for i in range(count)]


async def holders(service: SwarmService, ids: list[int]) -> set[str | None]:
    return {(await service.tasks.get(i)).agent for i in ids}


async def test_an_absurd_reset_in_a_pane_is_a_backoff_and_the_others_get_work(
    pane_settings: Settings,
    clock: ManualClock,
    tmux: Tmux,
    cli_home: Path,
    agents_file: Path,
) -> None:
    """Before: the reset (8.64e24 s from now) was stored, and reading it back raised
    OverflowError (``time.localtime``) in every scheduler pass, watch tick and ``swarm
    status``: no task went to any agent, across a restart."""
    panes_service = await SwarmService.open(pane_settings, clock)
    tmux.window("swarm", "a", show_line(CODEX))
    tmux.window("swarm", "g", show_line(GEMINI))
    tmux.window("swarm", "n", show_line(CODEX))
    for target in ("swarm:a", "swarm:g", "swarm:n"):
        wait_text(tmux.ref(target), ABSURD)
    rule_sets, errors = load_rule_sets(pane_settings.home)
    assert errors == []
    text = TextWatcher(panes_service, rule_sets)
    watcher = Watcher(panes_service, watch_settings(interval_s=1.0), text=text)
    await watcher.tick()  # reads the panes: the three are limited, with no reset shown
    backoff = PROBE_FIRST_S  # no reset shown: the first wait before a probe
    status = await panes_service.status()
    ends = {r["agent"]: r["until"] for r in status["limited"]["agents"]}
    assert ends == {a: clock.now() + backoff for a in ("A", "G", "N")}
    rows = {r["id"]: r for r in status["agents"]}
    assert rows["A"]["state"] == "limited"
    assert "no reset time shown: next probe at" in rows["A"]["evidence"]
    assert rows["A"]["signals"]["text"]["until"] is None  # not the absurd reset
    ids = await add_tasks(panes_service, 4)
    await Scheduler(panes_service, RecordingDeliverer()).run_burst()
    assert await holders(panes_service, ids) == {"B", "C"}  # the limited agents wait
    await text.close()

    # a restart: the same, and ``swarm status`` (a subprocess) answers
    await panes_service.close()
    again = await SwarmService.open(pane_settings, clock)
    try:
        text = TextWatcher(again, rule_sets)
        await Watcher(again, watch_settings(interval_s=1.0), text=text).tick()
        await text.close()
        more = await add_tasks(again, 2)
        await Scheduler(again, RecordingDeliverer()).run_burst()
        assert await holders(again, more) == {"B", "C"}
        shown = run_cli(cli_home, "status", config=agents_file)
        assert shown.code == 0, shown.err
        assert "A until " in shown.out
        clock.advance(backoff + 1)  # the limit is over: the three take work again
        for target in ("swarm:a", "swarm:g", "swarm:n"):
            tmux.run("respawn-pane", "-k", "-t", target, "printf 'ready\\n'; sleep 600")
            wait_text(tmux.ref(target), "ready")
        text = TextWatcher(again, rule_sets)
        await Watcher(again, watch_settings(interval_s=1.0), text=text).tick()
        await text.close()
        last = await add_tasks(again, 3)  # B and C are full
        await Scheduler(again, RecordingDeliverer()).run_burst()
        assert await holders(again, last) == {"A", "G", "N"}
    finally:
        await again.close()


def plant_absurd_rows(conn: Conn, now: float) -> None:
    """Rows as today's code stored them from such a pane (and worse): A's reset 8.64e24 s
    away, G's infinite, both decided limited until then; N's signal row only."""
    conn.execute(
        "INSERT INTO agent_signals (agent, signal, state, at, evidence, until) VALUES "
        "('A', 'text', 'limited', $1, 'text: usage limit', $2), "
        "('G', 'text', 'limited', $3, 'text: quota', $4), "
        "('N', 'hook', 'limited', $5, 'hook: limit', $6)",
        (now, now + 8.64e24, now, math.inf, now, -1e300),
    )
    for agent, until in (("A", now + 8.64e24), ("G", 1e300)):
        conn.execute(
            "INSERT INTO agent_state (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", (agent,)
        )
        conn.execute(
            "UPDATE agent_state SET state = 'limited', state_since = $1, state_until = $2, "
            "state_signal = 'text', state_evidence = 'text: usage limit (until ?)' WHERE id = $3",
            (now, until, agent),
        )
    conn.execute(
        "INSERT INTO events (ts, kind, text, agent_id, actor, data) VALUES "
        "($1, 'agent.limited', 'A hit a usage limit', 'A', 'watch', $2)",
        (now, json.dumps({"until": now + 8.64e24})),
    )


async def test_rows_stored_with_an_absurd_reset_read_as_a_backoff_everywhere(
    panes_service: SwarmService,
    pane_settings: Settings,
    clock: ManualClock,
    cli_home: Path,
    agents_file: Path,
) -> None:
    """The rows a pane wrote before the cap (the bug survived a restart): the scheduler,
    the watcher, ``swarm status`` (text and JSON), ``swarm agents explain``, the events'
    JSON and the Discord embed all read them, none raises."""
    await panes_service.store.update(plant_absurd_rows, clock.now())
    ids = await add_tasks(panes_service, 2)
    await Scheduler(panes_service, RecordingDeliverer()).run_burst()
    assert await holders(panes_service, ids) == {"B", "C"}
    await Watcher(panes_service, watch_settings(interval_s=1.0)).tick()
    status = await panes_service.status()
    ends = {r["agent"]: r["until"] for r in status["limited"]["agents"]}
    assert set(ends) == {"A", "G", "N"}
    assert all(clock.now() < end <= clock.now() + WEEK for end in ends.values())
    assert "A until " in status_text(status)
    json.dumps(shaped(status), allow_nan=False)
    everyone = dict(status, limited={**status["limited"], "all": True, "until": 1e300})
    assert "<t:253402128000:f>" in str(status_embed(everyone).fields[3].value)
    events = [shaped(e.to_json()) for e in await panes_service.history.events(limit=100)]
    assert {"until": "9999-12-30T00:00:00Z"} in [e["data"] for e in events]
    for args in (("status",), ("status", "--json"), ("agents", "explain", "A")):
        shown = run_cli(cli_home, *args, config=agents_file)
        assert shown.code == 0, shown.err
    token = await make_token(panes_service, "viewer", "wall")
    app = httpx.ASGITransport(app=create_app(panes_service, WebSettings()))
    async with httpx.AsyncClient(transport=app, base_url="http://127.0.0.1") as web:
        for path in ("/api/v1/status", "/api/v1/agents", "/api/v1/events"):
            answer = await web.get(path, headers=bearer(token))
            assert answer.status_code == 200, (path, answer.text)
        await web.post("/login", content=f"token={token}&next=/agents",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        for page in ("/agents", "/", "/activity"):
            assert (await web.get(page)).status_code == 200, page


async def test_one_agent_that_cannot_be_judged_is_held_alone_and_said_once(
    panes_service: SwarmService, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A's row holds a state swarm does not know: before, every read of the signals raised
    (ValueError), so no agent got a task and no tick ran. Now A is held with one alert (one
    error logged, however many passes and ticks), B and C work, and the alert clears once
    A can be judged again."""

    def plant(conn: Conn, now: float) -> None:
        conn.execute(
            "INSERT INTO agent_signals (agent, signal, state, at, evidence) VALUES "
            "('A', 'text', 'exhausted', $1, 'text: ?')",
            (now,),
        )

    await panes_service.store.update(plant, clock.now())
    watcher = Watcher(panes_service, watch_settings(interval_s=1.0))
    ids = await add_tasks(panes_service, 8)  # what G, N, B and C can hold
    with caplog.at_level(logging.DEBUG, logger="core.agents._judge"):
        for _ in range(5):
            await watcher.tick()
            await Scheduler(panes_service, RecordingDeliverer()).run_burst()
            clock.advance(1)
    assert "A" not in await holders(panes_service, ids)
    assert None not in await holders(panes_service, ids)  # the others took every task
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "swarm cannot judge A's state" in errors[0].getMessage()
    assert "'exhausted' is not a valid AgentState" in errors[0].getMessage()
    (alert,) = await panes_service.store.read(list_alerts)
    assert (alert.agent, alert.kind) == ("A", "unjudged")
    rows = {r["id"]: r for r in (await panes_service.status())["agents"]}
    assert rows["A"]["alerts"] == ["unjudged"] and rows["B"]["alerts"] == []

    def mend(conn: Conn) -> None:
        conn.execute("DELETE FROM agent_signals WHERE agent = 'A'")

    await panes_service.store.update(mend)
    await watcher.tick()
    assert await panes_service.store.read(list_alerts) == []
    more = await add_tasks(panes_service, 1)  # the others are full: A takes it
    await Scheduler(panes_service, RecordingDeliverer()).run_burst()
    assert await holders(panes_service, more) == {"A"}
    opened = [e for e in await panes_service.history.events(limit=1000) if e.kind == "alert.opened"]
    assert len(opened) == 1


async def test_a_limit_days_away_is_announced_with_its_date(
    panes_service: SwarmService, clock: ManualClock
) -> None:
    """Item 9: a limit of 3 days said only "until 08:00:00" (which day?); one within a day
    keeps its clock time."""
    for agent, away in (("A", 3 * 86400 + 7200), ("B", 3600)):
        obs = Observation(agent, Signal.TEXT, AgentState.LIMITED, clock.now(), "text: limit",
                          until=clock.now() + away)  # fmt: skip
        await panes_service.store.update(agent_signals.record, obs)
    await Watcher(panes_service, watch_settings(interval_s=1.0)).tick()
    said = {e.agent: e.text for e in await panes_service.history.events(limit=100)
            if e.kind == "agent.limited"}  # fmt: skip
    dated = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(clock.now() + 3 * 86400 + 7200))
    assert f"A hit a usage limit until {dated}: no new task meanwhile" in said["A"]
    clock_only = time.strftime("%H:%M:%S", time.localtime(clock.now() + 3600))
    assert f"B hit a usage limit until {clock_only}: no new task" in said["B"]
    explained = await panes_service.explain_agent("A")
    assert f"until {dated})" in explained["evidence"]


async def test_the_scheduler_alone_holds_an_agent_whose_limit_cannot_be_read(
    panes_service: SwarmService, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """No watcher runs: A's limited row has a detail that is not JSON. Before, every
    scheduler pass raised (JSONDecodeError) and no agent got a task; now the pass holds A,
    opens its ``unjudged`` alert once and hands the tasks to the others."""

    def plant(conn: Conn, now: float) -> None:
        conn.execute(
            "INSERT INTO agent_signals (agent, signal, state, at, evidence, detail) VALUES "
            "('A', 'text', 'limited', $1, 'text: limit', '{not json')",
            (now,),
        )

    await panes_service.store.update(plant, clock.now())
    ids = await add_tasks(panes_service, 8)
    with caplog.at_level(logging.ERROR, logger="core.agents._judge"):
        for _ in range(3):
            await Scheduler(panes_service, RecordingDeliverer()).run_burst()
    holding = await holders(panes_service, ids)
    assert "A" not in holding and None not in holding
    assert len(caplog.records) == 1 and "its 'text' signal row" in caplog.records[0].getMessage()
    (alert,) = await panes_service.store.read(list_alerts)
    assert (alert.agent, alert.kind) == ("A", "unjudged")
    assert (await panes_service.status())["limited"]["agents"] == []  # status answers
