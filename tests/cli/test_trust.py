"""Who may decide what from a terminal (``bot/cli/trust.py``; issue 40, item 5).

An agent's terminal (``SWARM_AGENT``, an agent's MCP token, ``--as`` an agent, an agent's
tmux pane or workspace) asking for a person's decision is refused in one line, nothing is
decided, and the attempt is recorded (an ``access.refused`` event, an audit row). Every web
token created or revoked is recorded (``token.created`` / ``token.revoked`` and an audit row),
never the token itself. The CLI runs in child processes over the test's database."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import build_parser
from core.access import _tokens as web_tokens
from core.errors import PersonOnly
from core.history.events import EventFilter
from core.models import Event
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.workflows import WorkflowBook
from tests.helpers import ROOT, cli_env, run_cli, write_agents
from tests.inbox.test_inbox import every_kind

PERSON_ONLY = {
    "approve",
    "reject",
    "reply",
    "resume",
    "agents resume",
    "agents remove",
    "agents stop",  # a running turn ended: a person's call, as a pause's undoing
    "workflow approve",
    "workflow reject",
    "plan",  # approve|discard P-3 only (plan_decision)
    "task merge",
    "web token create",
    "web token revoke",
    "inbox retry",
    "inbox dismiss",
    "inbox nudge",
    "inbox handon",
    "task budget",  # a budget is a person's to set (core.costs.budgets)
    "campaign budget",
    "inbox reassign",
    "inbox cancel",
    "inbox raise",  # a spent budget's (core/inbox/actions.py)
    "inbox accept",  # an unreported turn's task, done or failed by a person
    "inbox fail",
    "inbox allow",  # a host refused to a sandbox: only a person opens it (core/inbox/actions.py)
    "inbox deny",
}


async def swarm(home: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """One ``swarm`` run with ``env`` added: (exit status, stdout, stderr)."""
    done = await asyncio.to_thread(run_cli, home, *args, env=env)
    return done.code, done.out, done.err


async def kinds(service: SwarmService, *wanted: str) -> list[Event]:
    return await service.history.find(EventFilter(kinds=wanted))


def refused_once(code: int, out: str, err: str, why: str) -> None:
    """Exit 2, one line saying it was refused and why."""
    assert (code, out) == (2, ""), err
    assert err.startswith("swarm: error: ") and err.count("\n") == 1, err
    assert ": refused: " in err and "nothing was done" in err and why in err, err


@pytest.mark.both_databases
async def test_an_agents_terminal_cannot_answer_a_prompt_question_gate_or_plan(
    cli_home: Path, service: SwarmService, clock: ManualClock
) -> None:
    refs = await every_kind(service, clock)  # the prompt is Agent-1's: Bash(rm -rf build)
    prompt, gate, plan, question = refs["prompt"], refs["gate"], refs["plan"], refs["question"]
    tries: list[tuple[tuple[str, ...], dict[str, str], str, str | None]] = [
        (("approve", prompt), {"SWARM_AGENT": "Agent-1"}, "is Agent-1's (SWARM_AGENT)", "Agent-1"),
        (
            ("approve", prompt, "--option", "2"),  # "Yes, and don't ask again", for another
            {"SWARM_AGENT": "agent-2"},
            "is Agent-2's (SWARM_AGENT)",
            "Agent-2",
        ),
        (("--as", "Agent-3", "reject", gate), {}, "done as Agent-3, an agent (--as)", "Agent-3"),
        (
            ("--as", "boss", "approve", plan),  # a person's name from an agent's terminal
            {"SWARM_AGENT": "Agent-4"},
            "--as may name only Agent-4 here",
            "Agent-4",
        ),
        (("reply", question, "use SQLite"), {"SWARM_AGENT": "Agent-2"}, "Agent-2's", "Agent-2"),
        (("approve", prompt), {"SWARM_MCP_TOKEN": "swt_x"}, "an agent's MCP token", None),
    ]
    for args, env, why, _ in tries:
        refused_once(*await swarm(cli_home, *args, **env), why)
    assert [n.ref for n in await service.inbox.needs()] == list(refs.values())  # nothing decided
    assert (await service.inbox.prompt(int(prompt[2:]))).decision is None
    refusals = await kinds(service, "access.refused")
    assert [e.agent for e in refusals] == [agent for *_, agent in tries]
    assert refusals[0].text.startswith(f"swarm approve {prompt} refused (Agent-1, os:")
    audit = [r for r in await service.history.audit_rows() if not r.allowed]
    assert len(audit) == len(tries) and all(r.user_id.startswith("os:") for r in audit)
    assert audit[-1].command == f"swarm approve {prompt}"  # newest first
    code, out, err = await swarm(cli_home, "--as", "boss", "approve", prompt)
    assert code == 0 and "'Yes' chosen for Agent-1" in out, err


@pytest.mark.both_databases
async def test_credentials_are_a_persons_and_every_token_is_recorded(
    cli_home: Path, service: SwarmService
) -> None:
    for args in (("--role", "admin"), ("--agent", "Agent-1"), ("--role", "viewer")):
        refused = await swarm(cli_home, "web", "token", "create", *args, SWARM_AGENT="Agent-1")
        refused_once(*refused, "creating a credential is a person's to decide")
    assert await service.store.read(web_tokens.rows) == []
    code, token, err = await swarm(cli_home, "web", "token", "create", "--role", "admin")
    assert code == 0 and token.startswith("swt_"), err
    refused_once(
        *await swarm(cli_home, "web", "token", "revoke", "1", SWARM_AGENT="Agent-2"),
        "revoking a credential",
    )
    assert (await service.store.read(web_tokens.rows))[0]["revoked_at"] is None
    assert (await swarm(cli_home, "web", "token", "revoke", "1"))[0] == 0
    created, revoked = await kinds(service, "token.created", "token.revoked")
    assert created.kind == "token.created" and created.actor == "cli"
    assert created.text.startswith("web token 1 created by cli: admin token 'admin', never")
    assert created.data is not None and created.data["user"].startswith("os:")
    assert revoked.text.startswith("web token 1 (admin, 'admin') revoked by cli")
    allowed = [r for r in await service.history.audit_rows() if r.allowed]
    assert [r.command for r in allowed] == ["web token revoke", "web token create"]
    everything = json.dumps([e.__dict__ for e in await service.history.last(100)], default=str)
    assert token.strip() not in everything + json.dumps(
        [asdict(r) for r in await service.history.audit_rows()]
    )


async def test_the_kill_switch_a_paused_agent_a_gate_a_plan_and_a_merge_stay_a_persons(
    home: Path, service: SwarmService, clock: ManualClock
) -> None:
    refs = await every_kind(service, clock)
    assert (await swarm(home, "pause", "lunch"))[0] == 0
    assert (await swarm(home, "agents", "pause", "Agent-3"))[0] == 0
    for args in (
        ("resume",),
        ("agents", "resume", "Agent-3"),
        ("workflow", "approve", refs["gate"]),
        ("workflow", "reject", refs["gate"]),
        ("plan", "approve", refs["plan"]),
        ("plan", "discard", refs["plan"]),
        ("task", "merge", "T-1"),
    ):
        refused_once(*await swarm(home, *args, SWARM_AGENT="Agent-3"), "is Agent-3's")
    assert (home / "PAUSED").exists()
    assert next(r for r in await service.roster.rows() if r["id"] == "Agent-3")["paused"]
    assert [n.ref for n in await service.inbox.needs()] == list(refs.values())
    code, out, err = await swarm(home, "agents", "pause", "Agent-2", SWARM_AGENT="Agent-3")
    assert (code, out) == (0, "Agent-2 paused\n"), err  # anyone may stop; a person resumes


async def test_a_service_call_as_an_agent_decides_nothing(
    service: SwarmService, clock: ManualClock
) -> None:
    refs = await every_kind(service, clock)
    prompt = int(refs["prompt"][2:])
    for call in (
        service.inbox.approve(refs["prompt"], "Agent-1"),
        service.inbox.decide_prompt(prompt, "2", "agent-2"),
        service.inbox.reject(refs["gate"], "Agent-4"),
        service.inbox.reply(refs["question"], "yes", "Agent-2"),
        WorkflowBook(service.store).approve(refs["gate"], "Agent-3"),
    ):
        with pytest.raises(PersonOnly, match="is a person's decision, not Agent-"):
            await call
    assert [n.ref for n in await service.inbox.needs()] == list(refs.values())


def test_person_only_commands_are_marked_where_they_are_defined() -> None:
    found = set(_marked(build_parser()))
    assert found == PERSON_ONLY
    plan = build_parser().parse_args
    assert plan(["plan", "approve", "P-3"]).person_only(plan(["plan", "approve", "P-3"]))
    drafting = plan(["plan", "a", "parser", "--yes"])
    assert drafting.person_only(drafting) is None


def _marked(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Any:
    if path and parser.get_default("person_only") is not None:
        yield " ".join(path)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _marked(sub, (*path, name))


def test_an_agents_tmux_pane_and_workspace_are_its_terminal(tmp_path: Path, tmux: Any) -> None:
    """No SWARM_AGENT: the command runs in a pane of Agent-1's tmux window (refused), in a
    person's window of the same tmux server (allowed), in Agent-2's workspace (refused)."""
    home, ws = tmp_path / "home", tmp_path / "ws2"
    (ws / "src").mkdir(parents=True)
    pane = {"tmux": "ag:0", "tmux_socket": str(tmux.socket)}
    config = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "Agent-1", "role": "dev", "delivery": "inbox", **pane},
            {"id": "Agent-2", "role": "dev", "delivery": "inbox", "workspace": str(ws)},
        ],
    )
    env = cli_env(home, config) | {"PYTHONPATH": str(ROOT)}
    assert run_cli(home, "pause", config=config).code == 0
    tmux.window("ag", "0", "sleep 600")
    tmux.run("split-window", "-d", "-t", "=ag:0", _in_pane(env, tmp_path / "agent"))
    code, err = _pane_result(tmp_path / "agent")
    assert code == 2 and "is Agent-1's tmux pane (%" in err and err.count("\n") == 1, err
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "resume"],
        cwd=ws / "src",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and f"folder is in Agent-2's workspace ({ws}/src)" in done.stderr
    assert (home / "PAUSED").exists()
    tmux.window("me", "0", _in_pane(env, tmp_path / "person"))
    code, err = _pane_result(tmp_path / "person")
    assert code == 0 and not (home / "PAUSED").exists(), err


def _in_pane(env: dict[str, str], out: Path) -> str:
    """A shell command running ``swarm resume`` with ``env`` (tmux adds TMUX and
    TMUX_PANE), its stderr and exit status written next to ``out``."""
    ours = ("SWARM_", "XDG_", "PYTHON")
    settings = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(ours))
    run = f"env -u SWARM_AGENT {settings} {shlex.quote(sys.executable)} -m bot.cli.main resume"
    return f"cd {shlex.quote(str(ROOT))}; {run} 2>{out}.err; echo $? >{out}.rc; sleep 600"


def _pane_result(out: Path, timeout: float = 60) -> tuple[int, str]:
    rc = Path(f"{out}.rc")
    deadline = time.monotonic() + timeout
    while not (rc.exists() and rc.read_text().strip()):
        assert time.monotonic() < deadline, "the pane's command never finished"
        time.sleep(0.05)
    return int(rc.read_text()), Path(f"{out}.err").read_text()
