"""``swarm workflow`` and ``swarm campaign`` in real child processes over a real database
(SQLite and PostgreSQL: a dry run must not use up task numbers on either)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.settings import Settings
from tests.helpers import run_cli, stored_count

pytestmark = pytest.mark.both_databases


def test_run_show_approve_and_one_line_errors(
    cli_home: Path, settings: Settings, tmp_path: Path
) -> None:
    home = cli_home
    listed = json.loads(run_cli(home, "workflow", "list", "--json").out)
    assert {"release", "review-each", "fix-until-green"} <= {w["name"] for w in listed}
    dry = run_cli(home, "workflow", "run", "release", "--var", "version=1.4", "--dry-run")
    assert dry.code == 0, dry.err
    assert "review#2" in dry.out and "Approve release 1.4" in dry.out
    assert stored_count(settings, "tasks") == 0, "a dry run writes nothing"
    missing = run_cli(home, "workflow", "run", "release")
    assert (missing.code, missing.err) == (
        2,
        'swarm: error: release.toml: variable "version" is required (--var version=...)\n',
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[[steps]]\nid = "tag"\ntitle = "Tag"\nneeds = ["tests"]\n')
    checked = run_cli(home, "workflow", "validate", str(bad))
    assert (checked.code, checked.err) == (
        2,
        'swarm: error: bad.toml: step "tag": needs unknown step "tests"\n',
    )
    run = run_cli(
        home, "workflow", "run", "release", "--var", "version=1.4", "--var", "publish=no", "--json"
    )
    assert run.code == 0, run.err
    started = json.loads(run.out)
    assert started["campaign"] == "C-1" and len(started["tasks"]) == 7
    early = run_cli(home, "workflow", "approve", "T-5")
    assert early.code == 2 and early.err.startswith("swarm: error: T-5 cannot be approved yet")
    shown = json.loads(run_cli(home, "campaign", "show", "C-1", "--json").out)
    assert (shown["done"], shown["total"], shown["state"]) == (1, 7, "open")  # tag skipped
    text = run_cli(home, "campaign", "show", "c-1").out
    assert "1/7 done or skipped" in text and "T-6   skipped" in text
    cancelled = run_cli(home, "campaign", "cancel", "C-1")
    assert cancelled.out == "C-1 cancelled (6 unfinished tasks cancelled)\n", cancelled.err
    again = run_cli(home, "campaign", "cancel", "C-1")
    assert again.err == "swarm: error: C-1 is already cancelled\n"


def test_campaign_by_hand(cli_home: Path) -> None:
    home = cli_home
    assert run_cli(home, "task", "add", "One").code == 0
    assert run_cli(home, "task", "add", "Two").code == 0
    made = run_cli(home, "campaign", "create", "Notes app MVP", "T-1")
    assert made.out == "C-1 created (1 task)\n", made.err
    assert run_cli(home, "campaign", "add", "C-1", "T-2").out == "C-1 now also follows T-2\n"
    listed = run_cli(home, "campaign", "list").out
    assert "C-1" in listed and "0/2" in listed
    unknown = run_cli(home, "campaign", "show", "C-9")
    assert (unknown.code, unknown.err) == (2, "swarm: error: unknown campaign C-9\n")


def _five_agents(tmp_path: Path, captain: bool) -> Path:
    roles = ("integration", "architecture", "qa", "web", "operations")
    path = tmp_path / "agents.toml"
    path.write_text(
        "".join(
            f'[[agent]]\nid = "Agent-{n}"\nrole = "{role}"\ndelivery = "inbox"\n'
            + ("captain = true\n" if captain and n == 2 else "")
            for n, role in enumerate(roles, 1)
        )
    )
    return path


def test_review_each_with_five_agents_names_the_step_maps_roles_and_the_captain_stands_in(
    cli_home: Path, tmp_path: Path
) -> None:
    """The bundled roles need not all exist (issue 28, item 12)."""
    home = cli_home
    run = ("workflow", "run", "review-each", "--var", "modules=a,b")
    alone = run_cli(home, *run, config=_five_agents(tmp_path, captain=False))
    assert alone.code == 2 and alone.out == ""
    assert alone.err.startswith('swarm: error: review-each.toml: step "summary": no agent has ')
    assert "the role 'coordination'" in alone.err and "--role coordination=ROLE" in alone.err
    config = _five_agents(tmp_path, captain=True)
    wrong = run_cli(home, *run, "--role", "coordination=chef", config=config)
    assert wrong.err == (
        "swarm: error: review-each.toml: --role coordination=chef: no agent has the role 'chef' "
        "(roles here: integration, architecture, qa, web, operations)\n"
    )
    mapped = run_cli(home, *run, "--role", "coordination=qa", "--dry-run", config=config)
    assert mapped.code == 0, mapped.err
    assert [line.split()[:3] for line in mapped.out.splitlines()[2:]] == [
        ["review#1", "work", "qa"],
        ["review#2", "work", "qa"],
        ["summary", "work", "qa"],
    ]
    stood_in = run_cli(home, *run, config=config)
    assert stood_in.code == 0, stood_in.err
    assert stood_in.out.splitlines()[0] == (
        "review-each.toml: step \"summary\": no agent has the role 'coordination': the captain "
        "Agent-2 stands in (or map it: --role coordination=ROLE)"
    )
    assert stood_in.out.splitlines()[1].startswith("C-1 started: 3 tasks (T-1..T-3)")
    shown = json.loads(run_cli(home, "task", "show", "T-3", "--json", config=config).out)
    assert (shown["pinned"], shown["role"]) == ("Agent-2", None)


def test_campaign_show_counts_what_its_table_shows(cli_home: Path) -> None:
    """Tasks waiting for earlier ones are counted, not "0 blocked" (issue 28, item 13)."""
    home = cli_home
    ran = run_cli(home, "workflow", "run", "review-each", "--var", "modules=a,b,c,d,e,f")
    assert ran.code == 0, ran.err
    text = run_cli(home, "campaign", "show", "C-1").out
    assert "0/7 done or skipped, 0 failed, 1 waiting for other tasks, 0 blocked" in text
    assert "T-7   blocked" in text
    shown = json.loads(run_cli(home, "campaign", "show", "C-1", "--json").out)
    assert (shown["waiting"], shown["blocked"]) == (1, 0)
