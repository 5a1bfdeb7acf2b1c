"""Every ``--json`` command prints one shape: a JSON array for lists, an object for one thing,
times as ISO-8601 UTC text, tasks named ``T-3``. Run in-process over a real database."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import build_parser, main
from core.agents._alerts import HOST_REFUSED, STALLED, UNREPORTED, open_alert
from core.models import TaskSpec
from core.planning._store import insert_plan
from core.schedules.recurring import ScheduleSpec, add_schedule
from core.service.swarm import SwarmService
from core.settings import Settings, bundled_agents_file
from tests.conftest import skip_or_fail
from tests.costs.test_ledger import CLAUDE, Journal
from tests.helpers import run_cli
from tests.inbox.test_inbox import fail_delivery

pytestmark = pytest.mark.both_databases

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ARRAY, OBJECT = list, dict  # the expected top-level type

# (command, more arguments, actor, expected type), in the order they run (later ones use
# what earlier ones made: T-5, T-6, S-2, C-1).
CASES: list[tuple[str, list[str], str, type]] = [
    ("task add", ["Another", "--capability", "sql"], "cli", OBJECT),
    ("task create", ["And one more"], "cli", OBJECT),  # the alias, as /task create
    ("task list", ["--all"], "cli", ARRAY),
    ("task show", ["T-1"], "cli", OBJECT),
    ("task start", ["T-1", "--note", "half way"], "Agent-1", OBJECT),
    ("task note", ["T-1", "the schema is in"], "Agent-1", OBJECT),
    ("task depend", ["T-6", "T-2"], "cli", OBJECT),
    ("task assign", ["T-6", "Agent-2"], "cli", OBJECT),
    ("inbox", [], "cli", ARRAY),
    ("inbox show", ["P-1"], "cli", OBJECT),
    ("task edit", ["T-6", "--priority", "high"], "cli", OBJECT),
    ("task budget", ["T-6", "2.50"], "cli", OBJECT),
    ("reply", ["T-1", "Postgres"], "cli", OBJECT),
    ("ask", ["T-1", "Which port?"], "Agent-1", OBJECT),
    ("task done", ["T-1", "--note", "shipped"], "Agent-1", OBJECT),
    ("task review", ["T-1", "rename the table"], "cli", OBJECT),  # T-1 in progress again
    ("task done", ["T-1", "--note", "renamed"], "Agent-1", OBJECT),
    ("task fail", ["T-4", "--reason", "no disk"], "Agent-3", OBJECT),
    ("task retry", ["T-4"], "cli", OBJECT),
    ("task cancel", ["T-4"], "cli", OBJECT),
    ("send", ["Agent-1", "hello"], "cli", OBJECT),
    ("broadcast", ["hello all"], "cli", OBJECT),
    ("agents", [], "cli", ARRAY),
    ("agents explain", ["Agent-2"], "cli", OBJECT),
    ("status", [], "cli", OBJECT),
    ("events", ["--kind", "task"], "cli", ARRAY),
    ("config show", [], "cli", OBJECT),
    ("doctor", ["--timeout", "1"], "cli", ARRAY),
    ("plan", ["show", "P-1"], "cli", OBJECT),
    ("usage", [], "cli", OBJECT),
    ("summary", [], "cli", OBJECT),
    ("schedule add", ["--agent", "Agent-1", "--every", "1h", "stand-up"], "cli", OBJECT),
    ("schedule list", [], "cli", ARRAY),
    ("schedule remove", ["S-2"], "cli", OBJECT),
    ("stats", [], "cli", OBJECT),
    ("costs", [], "cli", OBJECT),
    ("costs reprice", [], "cli", OBJECT),
    ("alerts", ["--all"], "cli", ARRAY),
    ("gc", ["--dry-run"], "cli", OBJECT),
    ("workflow list", [], "cli", ARRAY),
    ("workflow show", ["release"], "cli", OBJECT),
    ("workflow run", ["release", "--var", "version=1.0", "--dry-run"], "cli", OBJECT),
    ("workflow run", ["release", "--var", "version=1.0"], "cli", OBJECT),
    ("campaign show", ["C-1"], "cli", OBJECT),
    ("campaign budget", ["C-1", "3.00"], "cli", OBJECT),
    ("campaign list", [], "cli", ARRAY),
    ("reserve", ["src/api/**", "--ttl", "1h"], "Agent-2", ARRAY),
    ("conflicts", ["src/api/x.py"], "cli", ARRAY),
    ("reservations", [], "cli", ARRAY),
    ("github status", [], "cli", OBJECT),  # not configured: state "skipped"
    ("workspaces list", [], "cli", ARRAY),
    ("workspaces show", ["Agent-1"], "cli", OBJECT),
    ("web token list", [], "cli", ARRAY),
    ("reject", ["P-1"], "cli", OBJECT),
    ("approve", ["P-2"], "cli", OBJECT),
]
NEEDS_A_DISPLAY = {"agents check", "desktop up", "desktop status"}  # tests/desktop/
NEEDS_GITHUB = {"github import"}  # tests/github/test_cli.py (against packages/localgithub)
INBOX_ACTIONS = {
    "inbox retry",
    "inbox dismiss",
    "inbox nudge",
    "inbox handon",
    "inbox reassign",
    "inbox cancel",
    "inbox raise",
    "inbox accept",
    "inbox fail",
    "inbox allow",
    "inbox deny",
}


def json_commands(parser: argparse.ArgumentParser, path: str = "") -> Iterator[str]:
    """Every command of the real tree that takes ``--json``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from json_commands(sub, f"{path} {name}".strip())
        elif "--json" in action.option_strings:
            yield path


def check_shape(value: Any, where: str, times: list[str]) -> None:
    """Plain JSON values only; times as ISO-8601 UTC; no epoch seconds under any name."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("ts", "since", "until") or key.endswith("_at"):
                assert item is None or ISO_UTC.match(item), f"{where}: {key}={item!r}"
                times += [item] if item else []
            elif key == "task" and item is not None:
                assert re.match(r"^T-\d+$", item), f"{where}: task={item!r}"
            else:
                check_shape(item, f"{where}.{key}", times)
    elif isinstance(value, list):
        for item in value:
            check_shape(item, where, times)
    else:
        assert value is None or isinstance(value, str | int | float | bool), where
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert not 1e9 < value < 4e9, f"{where}: {value} looks like epoch seconds"


async def _history(home: Path, database_url: str | None) -> None:
    env = {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": database_url or ""}
    service = await SwarmService.open(Settings.from_env(env))
    try:
        await service.tasks.create(TaskSpec("Build the API", agent="Agent-1"), "cli")
        await service.tasks.create(TaskSpec("Test it", after=("T-1",)), "cli")
        await service.tasks.create(TaskSpec("Write docs"), "cli")
        await service.tasks.create(TaskSpec("Fill the disk", agent="Agent-3"), "cli")
        await service.queue.assign_batch()
        await service.questions.ask("T-1", "Which database?", "Agent-1")
        document = {"summary": "an API", "tasks": [{"ref": "api", "title": "Build it"}]}
        await service.store.write("cli", insert_plan, "an API", document, "test-model", [])
        await service.store.write("cli", insert_plan, "an API", document, "test-model", [])
        await service.store.write("cli", open_alert, "Agent-2", STALLED, "no activity for 10m")
        await add_schedule(service, ScheduleSpec("prompt", "all", "hello", every_s=60), "cli")
    finally:
        await service.close()


def _repository(folder: Path) -> Path:
    folder.mkdir()
    for command in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *command], cwd=folder, check=True
        )
    return folder


def test_every_json_command_prints_one_shape(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str | None,
) -> None:
    tree = set(json_commands(build_parser()))
    assert tree == {path for path, *_ in CASES} | NEEDS_A_DISPLAY | NEEDS_GITHUB | INBOX_ACTIONS
    home = tmp_path / "home"
    for name in [n for n in os.environ if n.startswith(("SWARM_", "DISCORD_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("SWARM_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-user-config"))
    if database_url:
        monkeypatch.setenv("SWARM_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    asyncio.run(_history(home, database_url))
    repo = _repository(tmp_path / "app")
    assert main(["workspaces", "init", str(repo), "--agents", "Agent-1"]) == 0
    capsys.readouterr()
    times: list[str] = []
    for path, more, actor, expected in CASES:
        code = main([*path.split(), *more, "--json", "--as", actor])
        out, err = capsys.readouterr()
        assert code == (1 if path == "doctor" else 0), f"{path}: {err}"
        value = json.loads(out)
        assert isinstance(value, expected), f"{path}: {type(value).__name__}"
        check_shape(value, path, times)
    assert len(times) > 100  # tasks, events, questions, schedules, alerts, plans all have times


def test_agents_check_json_is_an_array(tmp_path: Path, shared_xvfb: Any) -> None:
    env = {"DISPLAY": shared_xvfb.display, "XAUTHORITY": str(shared_xvfb.xauthority)}
    result = run_cli(tmp_path / "home", "agents", "check", "--json", env=env)
    if result.code == 2:
        skip_or_fail(f"no display to check against: {result.err}")
    rows = json.loads(result.out)
    assert isinstance(rows, list) and len(rows) == 8
    check_shape(rows, "agents check", [])


async def _needs(home: Path, database_url: str | None) -> dict[str, str]:
    """Two failed deliveries and two stalled agents holding a task each: their refs."""
    env = {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": database_url or ""}
    service = await SwarmService.open(Settings.from_env(env))
    try:
        failed = [await fail_delivery(service, agent, "hello") for agent in ("Agent-5", "Agent-6")]
        for agent in ("Agent-2", "Agent-4", "Agent-7", "Agent-1", "Agent-5"):
            await service.tasks.create(TaskSpec(f"{agent}'s work", agent=agent), "cli")
        await service.queue.assign_batch()
        alerts = []
        for agent in ("Agent-2", "Agent-4", "Agent-7"):
            await service.store.write("cli", open_alert, agent, STALLED, "no activity for 10m")
            alerts.append(next(n.ref for n in await service.inbox.needs() if n.agent == agent))
        for agent in ("Agent-1", "Agent-5"):  # ended their turns without reporting
            await service.store.write("cli", open_alert, agent, UNREPORTED, "turn over")
            needs = await service.inbox.needs()
            alerts.append(next(n.ref for n in needs if n.agent == agent and n.kind == "alert"))
        spent = await service.costs.create_task(TaskSpec("spent", agent="Agent-3"), "cli", 0.1)
        await service.queue.assign_batch()
        await Journal(service, "Agent-3").turn(usage=CLAUDE, cost_usd=0.5)
        budget = next(n.ref for n in await service.inbox.needs() if n.task == f"T-{spent}")
        for host in ("example.com:443", "example.org:443"):  # refused by Agent-6's proxy
            await service.store.write("cli", open_alert, "Agent-6", HOST_REFUSED + host, host)
        hosts = [n.ref for n in await service.inbox.needs() if n.extra.get("host")]
    finally:
        await service.close()
    return {
        "inbox retry": f"D-{failed[0]}",
        "inbox dismiss": f"D-{failed[1]}",
        "inbox nudge": alerts[0],
        "inbox handon": alerts[0],
        "inbox reassign": f"{alerts[2]} Agent-8",  # REF AGENT
        "inbox cancel": alerts[1],
        "inbox raise": f"{budget} 2.50",  # REF DOLLARS
        "inbox accept": alerts[3],
        "inbox fail": alerts[4],
        "inbox allow": hosts[0],
        "inbox deny": hosts[1],
    }


def test_the_inbox_actions_print_one_shape(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str | None,
) -> None:
    home = tmp_path / "home"
    for name in [n for n in os.environ if n.startswith(("SWARM_", "DISCORD_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SWARM_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-user-config"))
    if database_url:
        monkeypatch.setenv("SWARM_DATABASE_URL", database_url)
    home.mkdir(parents=True)  # the agents file an "allow" writes: the home's
    shutil.copy(bundled_agents_file(), home / "agents.toml")
    refs = asyncio.run(_needs(home, database_url))
    assert set(refs) == INBOX_ACTIONS
    times: list[str] = []
    for path, ref in refs.items():
        code = main([*path.split(), *ref.split(), "--json", "--as", "cli"])
        out, err = capsys.readouterr()
        assert code == 0, f"{path}: {err}"
        value = json.loads(out)
        assert isinstance(value, OBJECT) and value["ref"] == ref.split()[0], path
        check_shape(value, path, times)
