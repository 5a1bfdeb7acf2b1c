"""``swarm hook`` called as the agent CLIs call it, and ``swarm agents hooks install``.

A test executable named ``claude`` (tests/fake_claude.py, on PATH) runs the hooks that
``swarm agents hooks install`` wrote into the agent's workspace, with JSON shaped as Claude
Code's hooks reference documents each event (common fields: ``session_id``,
``transcript_path``, ``cwd``, ``permission_mode``, ``hook_event_name``), and Codex CLI's
hooks of ``.codex/hooks.json`` (the same format; its ``Stop`` JSON), and the ``notify``
program an older swarm installed (its ``agent-turn-complete`` JSON as the last argument).

The permission requests (a waiting hook, the decision it returns, its deadline) run on SQLite
and PostgreSQL (``both_databases``, per test): the wait is where the databases differ (SQLite:
inotify on the store's log; PostgreSQL: ``LISTEN swarm_prompt``). The other tests record one
observation through the same store call on either database and start a subprocess per event,
so they run on SQLite only: on PostgreSQL they would double the module's time (about 10 s more
on 2 cores) for no path of their own.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.dialogs import permissions as prompts
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import ROOT, cli_env, run_cli, write_agents

TOOL = {"command": "make test", "description": "Run the tests"}
SUGGESTIONS = [
    {
        "type": "addRules",
        "rules": [{"toolName": "Bash", "ruleContent": "make test"}],
        "behavior": "allow",
        "destination": "localSettings",
    }
]


def payload(cwd: Path, event: str, **fields: Any) -> dict[str, Any]:
    """A hook input as documented: the common fields, then the event's own."""
    return {
        "session_id": "abc123",
        "transcript_path": str(cwd / "transcript.jsonl"),
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": event,
        **fields,
    }


EVENTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("SessionStart", {"source": "startup", "model": "claude-sonnet-4-5"}, "idle", "SessionStart"),
    ("UserPromptSubmit", {"prompt": "Fix the failing test"}, "working", "UserPromptSubmit"),
    (
        "PreToolUse",
        {"tool_name": "Bash", "tool_input": TOOL, "tool_use_id": "toolu_01"},
        "working",
        "PreToolUse Bash",
    ),
    (
        "Notification",
        {
            "message": "Claude needs your permission to use Bash",
            "notification_type": "permission_prompt",
        },
        "waiting",
        "Notification permission_prompt",
    ),
    (
        "Notification",
        {"message": "Claude is waiting for your input", "notification_type": "idle_prompt"},
        "idle",
        "Notification idle_prompt",
    ),
    (
        "SubagentStop",
        {
            "stop_hook_active": False,
            "agent_id": "def456",
            "agent_type": "Explore",
            "agent_transcript_path": "/tmp/agent.jsonl",
        },
        "working",
        "SubagentStop",
    ),
    (
        "Notification",
        {
            "message": "Claude Code needs your input for the github MCP server",
            "notification_type": "elicitation_dialog",
        },
        "waiting",
        "Notification elicitation_dialog",
    ),
    ("Stop", {"stop_hook_active": False}, "idle", "Stop"),
    # Claude Code 2.1: the turn ended by an API error (its "error" is one of a fixed list)
    (
        "StopFailure",
        {
            "error": "server_error",
            "error_details": "500 Internal Server Error",
            "last_assistant_message": "API Error: 500",
        },
        "errored",
        "StopFailure server_error: 500 Internal Server Error",
    ),
    ("SessionEnd", {"reason": "prompt_input_exit"}, "offline", "SessionEnd prompt_input_exit"),
]


class Desk:
    """A home with two agents in their own workspaces, and a ``claude`` on PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "home"
        self.home.mkdir(exist_ok=True)  # the ``home`` fixture's, when the test has one
        self.ws = {name: tmp_path / name.lower() for name in ("Agent-1", "Agent-2")}
        for folder in self.ws.values():
            folder.mkdir()
        self.config = write_agents(
            tmp_path / "agents.toml",
            [
                {"id": name, "role": "dev", "delivery": "inbox", "workspace": str(folder)}
                for name, folder in self.ws.items()
            ],
        )
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        claude = self.bin / "claude"
        claude.write_text(
            f"#!{sys.executable}\n" + (ROOT / "tests" / "fake_claude.py").read_text("utf-8")
        )
        claude.chmod(0o755)
        self.payloads = tmp_path / "payloads"
        self.payloads.mkdir()

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return run_cli(self.home, *args, config=self.config, env=env)

    def agent_env(self, **extra: str) -> dict[str, str]:
        """An agent terminal's environment: no SWARM_* (the hook command carries them)."""
        env = cli_env(self.home) | extra
        for name in ("SWARM_HOME", "SWARM_CONFIG"):
            env.pop(name, None)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return env

    def claude(
        self, agent: str, event: str, body: dict[str, Any] | str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``claude EVENT PAYLOAD`` in the agent's workspace (the PATH's ``claude``)."""
        file = self.payloads / f"{time.monotonic_ns()}.json"
        file.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
        return subprocess.run(
            ["claude", event, str(file)],
            cwd=self.ws[agent],
            env=env or self.agent_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def ask_to_run_make_test(self, agent: str = "Agent-1") -> Any:
        """``agent``'s Claude Code asks to run ``make test`` (a PermissionRequest hook with
        suggestions), started, waiting for its answer."""
        body = payload(
            self.ws[agent],
            "PermissionRequest",
            tool_name="Bash",
            tool_input=TOOL,
            permission_suggestions=SUGGESTIONS,
        )
        return self.start_claude(agent, body, self.agent_env())

    def start_claude(self, agent: str, body: dict[str, Any], env: dict[str, str]) -> Any:
        file = self.payloads / f"{time.monotonic_ns()}.json"
        file.write_text(json.dumps(body), encoding="utf-8")
        return subprocess.Popen(
            ["claude", "PermissionRequest", str(file)],
            cwd=self.ws[agent],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def desk(tmp_path: Path, settings: Settings) -> Desk:
    """The desk on the test's database: ``settings`` wrote a PostgreSQL URL to the user
    config file the CLI and the agents' hooks read (a hook command never carries one)."""
    made = Desk(tmp_path)
    assert made.home == settings.home
    assert made.cli("agents", "hooks", "install").code == 0
    return made


@pytest.fixture
async def desk_service(desk: Desk, settings: Settings) -> AsyncIterator[SwarmService]:
    env = {"SWARM_HOME": str(desk.home), "SWARM_CONFIG": str(desk.config)}
    service = await SwarmService.open(
        Settings.from_env(env | {"SWARM_DATABASE_URL": settings.database_url or ""})
    )
    yield service
    await service.close()


async def row(service: SwarmService, agent: str) -> dict[str, Any]:
    return next(r for r in await service.roster.rows() if r["id"] == agent)


async def test_every_documented_event_sets_the_state_with_its_evidence(
    desk: Desk, desk_service: SwarmService
) -> None:
    for event, fields, state, words in EVENTS:
        done = desk.claude("Agent-1", event, payload(desk.ws["Agent-1"], event, **fields))
        assert (done.returncode, done.stdout) == (0, ""), (event, done.stderr)
        shown = await row(desk_service, "Agent-1")
        assert (shown["state"], shown["signal"]) == (state, "hook"), (event, shown)
        assert shown["evidence"].startswith(f"hook: {words}"), shown["evidence"]
    assert (await row(desk_service, "Agent-2"))["state"] == "unknown"  # its hooks never ran
    listed = json.loads(desk.cli("agents", "--json").out)
    assert [(a["id"], a["state"]) for a in listed] == [
        ("Agent-1", "offline"),
        ("Agent-2", "unknown"),
    ]
    explained = desk.cli("agents", "explain", "Agent-1").out
    assert "hook: SessionEnd prompt_input_exit at " in explained and "→ offline" in explained


async def test_a_turn_ended_by_a_rate_limit_makes_the_agent_limited(
    desk: Desk, desk_service: SwarmService
) -> None:
    """Claude Code 2.1's ``StopFailure`` with ``error: rate_limit`` (its 429 after its own
    retries): the agent is ``limited`` with the API's words, not idle after the turn."""
    fields = {"error": "rate_limit", "error_details": "Request rejected (429) · over the limit",
              "last_assistant_message": "API Error: Request rejected (429)"}  # fmt: skip
    done = desk.claude(
        "Agent-1", "StopFailure", payload(desk.ws["Agent-1"], "StopFailure", **fields)
    )
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    shown = await row(desk_service, "Agent-1")
    assert (shown["state"], shown["signal"]) == ("limited", "hook"), shown
    assert shown["evidence"].startswith("hook: StopFailure rate_limit: Request rejected (429)")
    odd = {"error": ["not", "a", "string"], "error_details": 42}
    done = desk.claude("Agent-2", "StopFailure", payload(desk.ws["Agent-2"], "StopFailure", **odd))
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    shown = await row(desk_service, "Agent-2")
    assert (shown["state"], shown["evidence"]) == ("errored", "hook: StopFailure unknown")


async def test_a_hook_is_recorded_when_its_agent_cannot_be_judged(
    desk: Desk, desk_service: SwarmService
) -> None:
    """Agent-1 has a stored row swarm cannot read (issue 40): before, the judgement after
    the hook raised and the hook's whole write was lost. Now the hook is recorded and the
    agent gets an ``unjudged`` alert."""
    from core.agents._alerts import list_alerts

    def plant(conn: Any) -> None:
        conn.execute(
            "INSERT INTO agent_signals (agent, signal, state, at, evidence) VALUES "
            "('Agent-1', 'text', 'exhausted', 1, 'text: ?')"
        )

    await desk_service.store.update(plant)
    done = desk.claude("Agent-1", "Stop", payload(desk.ws["Agent-1"], "Stop"))
    assert done.returncode == 0, done.stderr
    shown = await row(desk_service, "Agent-1")
    assert shown["signals"]["hook"]["evidence"] == "hook: Stop"
    assert shown["alerts"] == ["unjudged"]
    (alert,) = await desk_service.store.read(list_alerts)
    assert "swarm cannot judge Agent-1's state" in alert.text


async def test_codex_runs_swarms_hook_from_its_hooks_json(
    desk: Desk, desk_service: SwarmService
) -> None:
    """Codex CLI 0.169 ignores a project's ``notify``; its ``.codex/hooks.json`` (Claude
    Code's format, JSON on stdin) runs swarm's hook."""
    for event, extra, state in (
        ("UserPromptSubmit", {"prompt": "Rename foo"}, "working"),
        ("Stop", {"stop_hook_active": False, "last_assistant_message": "Done."}, "idle"),
    ):
        body = {"session_id": "b5f6c1c2-1111", "turn_id": "12345", "cwd": str(desk.ws["Agent-2"]),
                "hook_event_name": event, "model": "gpt-5-codex", **extra}  # fmt: skip
        done = desk.claude("Agent-2", "codex", body)
        assert done.returncode == 0, done.stderr
        shown = await row(desk_service, "Agent-2")
        assert (shown["state"], shown["evidence"]) == (state, f"hook: {event}")


async def test_an_older_swarms_codex_notify_still_reports(
    desk: Desk, desk_service: SwarmService
) -> None:
    """A ``notify`` line an older swarm wrote (or the user's own ~/.codex one) calls the
    hook with Codex's JSON as the last argument: still read."""
    body = {"type": "agent-turn-complete", "thread-id": "b5f6c1c2", "turn-id": "1",
            "cwd": str(desk.ws["Agent-2"]), "last-assistant-message": "Done."}  # fmt: skip
    hook = desk.cli("hook", "--agent", "Agent-2", json.dumps(body))
    assert hook.code == 0, hook.err
    shown = await row(desk_service, "Agent-2")
    assert (shown["state"], shown["evidence"]) == ("idle", "hook: Codex agent-turn-complete")


async def test_bad_input_and_unknown_events_are_logged_and_exit_0(
    desk: Desk, desk_service: SwarmService
) -> None:
    cases = [
        ("Stop", "{not json", "not JSON"),
        ("Stop", "[1, 2]", "not a JSON object"),
        ("Stop", json.dumps({"session_id": "x"}), "no hook_event_name"),
        ("Stop", json.dumps(payload(desk.ws["Agent-1"], "PreCompact")), "'PreCompact'"),
        (
            "Stop",
            json.dumps(
                payload(desk.ws["Agent-1"], "Notification", notification_type="auth_success")
            ),
            "'auth_success'",
        ),
    ]
    for event, body, said in cases:
        done = desk.claude("Agent-1", event, body)
        assert (done.returncode, done.stdout) == (0, ""), done.stderr
        assert said in done.stderr and "nothing recorded" in done.stderr
    assert (await row(desk_service, "Agent-1"))["signals"] == {}
    program = [sys.executable, "-m", "bot.cli.hook", "--agent"]  # a value missing
    done = await asyncio.to_thread(_run, program, "{}", cli_env(desk.home, desk.config))
    assert (done.returncode, done.stdout) == (0, "") and "nothing recorded" in done.stderr


async def test_the_agent_comes_from_swarm_agent_or_the_workspace_it_works_in(
    desk: Desk, desk_service: SwarmService
) -> None:
    program = [sys.executable, "-m", "bot.cli.main", "hook"]
    env = cli_env(desk.home, desk.config)
    nested = desk.ws["Agent-2"] / "src" / "pkg"
    nested.mkdir(parents=True)
    body = json.dumps(payload(nested, "UserPromptSubmit", prompt="go"))
    done = await asyncio.to_thread(_run, program, body, env)
    assert done.returncode == 0, done.stderr
    assert (await row(desk_service, "Agent-2"))["state"] == "working"
    body = json.dumps(payload(Path("/"), "Stop", stop_hook_active=False))
    env["SWARM_AGENT"] = "agent-1"  # case-blind, like every agent name
    done = await asyncio.to_thread(_run, program, body, env)
    assert done.returncode == 0 and (await row(desk_service, "Agent-1"))["state"] == "idle"
    del env["SWARM_AGENT"]  # from "/": no agent's workspace
    done = await asyncio.to_thread(_run, program, body, env)
    assert done.returncode == 0 and "no agent" in done.stderr


async def test_a_hook_naming_no_configured_agent_is_refused_in_one_line_not_credited(
    desk: Desk, desk_service: SwarmService
) -> None:
    """A hook whose ``--agent`` or ``SWARM_AGENT`` names an agent that is not configured (a
    stale hooks file, a removed agent, a forged call) runs in Agent-2's workspace: it used to
    be credited to Agent-2 (the workspace's agent); it is refused, one log line."""
    program = [sys.executable, "-m", "bot.cli.main", "hook"]
    body = json.dumps(payload(desk.ws["Agent-2"], "UserPromptSubmit", prompt="go"))
    for extra, env in (
        (["--agent", "Agent-9"], cli_env(desk.home, desk.config)),
        ([], cli_env(desk.home, desk.config, agent="Ghost\nAgent")),
    ):
        done = await asyncio.to_thread(_run, [*program, *extra], body, env)
        assert (done.returncode, done.stdout) == (0, ""), done.stderr
        said = "--agent 'Agent-9' is not" if extra else "SWARM_AGENT 'Ghost\\x0aAgent' is not"
        assert done.stderr.count("\n") == 1 and said in done.stderr, done.stderr
        assert "a configured agent" in done.stderr and "not recorded" in done.stderr
    assert (await row(desk_service, "Agent-2"))["signals"] == {}


def test_without_its_database_the_hook_exits_0_at_once_and_creates_nothing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "missing"
    body = json.dumps(payload(tmp_path, "PreToolUse", tool_name="Bash", tool_input=TOOL))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "hook", "--agent", "Agent-1"],
        input=body,
        env=cli_env(home),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert done.returncode == 0 and "no swarm database" in done.stderr
    assert time.monotonic() - started < 10  # no waiting on anything (generous bound)
    assert not home.exists()


def test_the_hook_loads_no_other_command_group(tmp_path: Path) -> None:
    """It runs at every event of every agent's CLI: the other commands' modules (and what
    they import) are not its cost."""
    body = json.dumps(payload(tmp_path, "Stop", stop_hook_active=False))
    probe = (
        "import sys; from bot.cli.main import main; main(['hook', '--agent', 'Agent-1']); "
        "print(sorted(m for m in sys.modules if m.startswith('bot.cli.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        input=body,
        env=cli_env(tmp_path / "missing"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    loaded = set(ast.literal_eval(done.stdout.strip()))
    assert "bot.cli.hook" in loaded and not {"bot.cli.tasks", "bot.cli.workflows"} & loaded


# a command run as an agent's terminal runs it, printing the host wire's modules it imported
WIRE = ("pydantic", "core.hosts.model")
AS_AGENT = (
    "import sys; from bot.cli.main import main; code = main({argv!r}); "
    f"print(sorted(m for m in {WIRE!r} if m in sys.modules)); raise SystemExit(code)"
)


async def test_a_hook_and_an_agents_reports_import_no_host_wire(
    desk: Desk, desk_service: SwarmService
) -> None:
    """Every event of every agent's CLI runs ``swarm hook``, and an agent reports with ``swarm
    task start`` and ``done``: none of them reads a protocol host's wire, so none imports
    its pydantic models (about 0.1 s of CPU at each start, as it did)."""
    await desk_service.tasks.create(TaskSpec("wire-free", agent="Agent-1"), "cli")
    await desk_service.queue.assign_batch()
    hook = ["hook", "--agent", "Agent-1"]
    typed = json.dumps(payload(desk.ws["Agent-1"], "UserPromptSubmit", prompt="go"))
    for argv, body in [(hook, typed), (["task", "start", "T-1"], ""),
                       (["task", "done", "T-1", "--note", "ok"], "")]:  # fmt: skip
        done = _as_agent(desk, argv, body)
        assert done.returncode == 0, (argv, done.stderr)
        assert done.stdout.splitlines()[-1] == "[]", (argv, done.stdout)
    assert (await row(desk_service, "Agent-1"))["evidence"].startswith("hook: UserPromptSubmit")
    assert (await desk_service.tasks.get(1)).status.value == "done"


def _as_agent(desk: Desk, argv: list[str], body: str) -> subprocess.CompletedProcess[str]:
    """``swarm ARGV`` as Agent-1's terminal runs it, ``body`` on its stdin (``AS_AGENT``)."""
    return subprocess.run(
        [sys.executable, "-c", AS_AGENT.format(argv=argv)], input=body, cwd=ROOT,
        env=cli_env(desk.home, desk.config, "Agent-1"), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


@pytest.mark.both_databases
async def test_a_permission_request_answered_within_the_wait_returns_the_decision(
    desk: Desk, desk_service: SwarmService
) -> None:
    service = desk_service
    agent = desk.ask_to_run_make_test()
    try:
        prompt = await _open_prompt(service, "Agent-1")
        assert prompt.text == (
            "Allow Bash:\ndescription (the model's words): Run the tests\ncommand: make test"
        )
        assert [o.label for o in prompt.options] == [
            "Yes",
            "Yes, and don't ask again for Bash(make test) in this project (its local settings)",
            "No",
        ]  # the request's own suggestion, in words (before: "Yes, and don't ask again")
        assert (await row(service, "Agent-1"))["state"] == "waiting"
        if service.settings.database_url:  # the hook listens for its prompt, not polls
            await asyncio.to_thread(_wait_for_listener, service.settings.database_url)
        await service.store.write(
            "discord:ann", prompts.decide, prompt.id, "2"
        )  # the button's call
        out, err = await asyncio.to_thread(agent.communicate, timeout=60)
    finally:
        agent.kill()
    assert agent.returncode == 0, err
    assert json.loads(out) == {
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "allow", "updatedPermissions": SUGGESTIONS},
        }
    }
    shown = await row(service, "Agent-1")
    assert shown["state"] == "working"
    assert "answered \"Yes, and don't ask again for Bash(make test)" in shown["evidence"]


@pytest.mark.both_databases
async def test_a_denied_request_returns_deny(desk: Desk, desk_service: SwarmService) -> None:
    body = payload(
        desk.ws["Agent-2"],
        "PermissionRequest",
        tool_name="Write",
        tool_input={"file_path": "/etc/hosts", "content": "x"},
    )
    agent = desk.start_claude("Agent-2", body, desk.agent_env())
    try:
        prompt = await _open_prompt(desk_service, "Agent-2")
        await desk_service.store.write("discord:bob", prompts.decide, prompt.id, "3")
        out, _ = await asyncio.to_thread(agent.communicate, timeout=60)
    finally:
        agent.kill()
    decision = json.loads(out)["hookSpecificOutput"]["decision"]
    assert decision == {"behavior": "deny", "message": "Denied by discord:bob through swarm."}


@pytest.mark.both_databases
async def test_a_permission_request_nobody_answers_returns_nothing_and_closes(
    desk: Desk, desk_service: SwarmService
) -> None:
    body = payload(desk.ws["Agent-1"], "PermissionRequest", tool_name="Bash", tool_input=TOOL)
    env = desk.agent_env(SWARM_APPROVAL_WAIT="0.5")
    started = time.monotonic()
    done = await asyncio.to_thread(desk.claude, "Agent-1", "PermissionRequest", body, env)
    assert (done.returncode, done.stdout) == (0, "")  # no decision: Claude Code's dialog stays
    assert time.monotonic() - started < 30
    closed = await desk_service.store.read(prompts.get_prompt, 1)
    assert closed.closed_why == "no answer within 0.5 s" and closed.decision is None
    assert (await row(desk_service, "Agent-1"))["state"] == "waiting"  # its own dialog is open


@pytest.mark.both_databases
async def test_a_plan_to_approve_makes_its_agent_waiting_and_is_answered(
    desk: Desk, desk_service: SwarmService
) -> None:
    """Claude Code in plan mode asks to leave it (``ExitPlanMode``) with the plan."""
    plan = "1. Add a failing test for the parser\n2. Fix the parser"
    notice = payload(desk.ws["Agent-2"], "UserPromptSubmit", prompt="go")
    assert desk.claude("Agent-2", "UserPromptSubmit", notice).returncode == 0
    body = payload(desk.ws["Agent-1"], "PermissionRequest", tool_name="ExitPlanMode",
                   tool_input={"plan": plan}, permission_mode="plan")  # fmt: skip
    agent = desk.start_claude("Agent-1", body, desk.agent_env())
    try:
        prompt = await _open_prompt(desk_service, "Agent-1")
        assert prompt.text == f"Approve Claude's plan?\n\n{plan}"
        assert [(o.key, o.label) for o in prompt.options] == [
            ("1", "Yes, go ahead with the plan"),
            ("3", "No, keep planning"),
        ]
        shown = await row(desk_service, "Agent-1")
        assert shown["state"] == "waiting"
        assert shown["evidence"] == (
            f"prompt {prompt.id} open: Approve Claude's plan? 1. Add a failing test for the "
            "parser 2. Fix the parser"
        )
        explained = await desk_service.explain_agent("Agent-1")
        assert "hook: PermissionRequest ExitPlanMode: a plan to approve" in json.dumps(explained)
        assert (await row(desk_service, "Agent-2"))["state"] == "working"  # per agent
        await desk_service.inbox.reject(f"R-{prompt.id}", "cli")  # swarm reject R-1
        out, err = await asyncio.to_thread(agent.communicate, timeout=60)
    finally:
        agent.kill()
    assert agent.returncode == 0, err
    decision = json.loads(out)["hookSpecificOutput"]["decision"]
    assert decision == {
        "behavior": "deny",
        "message": "cli did not approve the plan through swarm: keep planning.",
    }


def _run(program: list[str], body: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(program, input=body, env=env, capture_output=True, text=True, cwd=ROOT)


def _wait_for_listener(url: str) -> None:
    """Until a session of the database has run ``LISTEN swarm_prompt`` (the hook's)."""
    import psycopg

    from core.store.postgres.store import PROMPT_CHANNEL

    deadline = time.monotonic() + 30
    with psycopg.connect(url, autocommit=True) as conn:
        while not conn.execute(
            "SELECT 1 FROM pg_stat_activity WHERE query = %s", (f"LISTEN {PROMPT_CHANNEL}",)
        ).fetchone():
            assert time.monotonic() < deadline, "the hook never listened"
            time.sleep(0.02)


async def _open_prompt(service: SwarmService, agent: str) -> prompts.Prompt:
    deadline = time.monotonic() + 30
    while not (found := await service.store.read(prompts.open_prompts, agent)):
        assert time.monotonic() < deadline, "the hook opened no prompt"
        await asyncio.sleep(0.02)
    return found[0]


def test_install_twice_keeps_the_users_hooks_and_remove_restores_the_file(
    tmp_path: Path,
) -> None:
    desk = Desk(tmp_path)
    mine = desk.ws["Agent-2"] / ".claude" / "settings.local.json"
    mine.parent.mkdir()
    original = (
        '{\n    "model": "opus",\n    "hooks": {"Stop": [{"hooks": [{"type": "command", '
        '"command": "notify-send done"}]}],\n    "PreToolUse": [{"matcher": "Bash", '
        '"hooks": [{"type": "command", "command": "./check.sh"}]}]}\n}\n'
    )
    mine.write_text(original, encoding="utf-8")
    config = desk.ws["Agent-2"] / ".codex" / "config.toml"
    config.parent.mkdir()
    mark = "# swarm agent state (swarm agents hooks install)"
    older = f'notify = ["swarm", "hook", "--agent", "Agent-2"]  {mark}\n'  # an older swarm's
    config.write_text(older + 'model = "o3"\n\n[profiles.fast]\nmodel = "o4-mini"\n')
    codex = desk.ws["Agent-2"] / ".codex" / "hooks.json"
    codex.write_text(
        '{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]}}'
    )
    codex_before = codex.read_bytes()
    first = desk.cli("agents", "hooks", "install")
    assert first.code == 0 and first.out.count("hooks added") == 4
    assert first.out.count("report rule added") == 4  # Gemini's policy file and its path
    after_first = mine.read_bytes(), codex.read_bytes()
    again = desk.cli("agents", "hooks", "install")
    assert again.code == 0 and again.out.count("already installed") == 8
    assert (mine.read_bytes(), codex.read_bytes()) == after_first  # idempotent
    hooks = json.loads(mine.read_text())["hooks"]
    stop = [h["command"] for g in hooks["Stop"] for h in g["hooks"]]
    assert stop[0] == "notify-send done" and stop[1].endswith("-m bot.cli.hook --agent Agent-2")
    assert len(stop) == 2
    assert [g.get("matcher") for g in hooks["PreToolUse"]] == ["Bash", "*"]
    assert set(hooks) == {
        "SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
        "Notification", "Stop", "StopFailure", "SubagentStop", "SessionEnd",
    }  # fmt: skip
    permission = hooks["PermissionRequest"][0]["hooks"][0]
    assert permission["timeout"] > 120  # Claude Code must not stop it before its own wait
    codex_hooks = json.loads(codex.read_text())["hooks"]
    assert set(codex_hooks) == {"SessionStart", "UserPromptSubmit", "PreToolUse", "Stop"}
    codex_stop = [h["command"] for g in codex_hooks["Stop"] for h in g["hooks"]]
    assert codex_stop[0] == "say done" and "--agent Agent-2" in codex_stop[1]
    assert config.read_text() == 'model = "o3"\n\n[profiles.fast]\nmodel = "o4-mini"\n'
    removed = desk.cli("agents", "hooks", "install", "--remove")
    assert removed.code == 0, removed.err
    assert mine.read_text(encoding="utf-8") == original  # byte for byte
    assert codex.read_bytes() == codex_before
    assert not (desk.ws["Agent-1"] / ".claude").exists()  # made by install: gone again
    assert not (desk.ws["Agent-1"] / ".codex").exists()
    assert not (desk.ws["Agent-1"] / ".gemini").exists()  # the policy and its path too
    assert removed.out.count("swarm's report rule removed") == 4


def test_remove_takes_swarms_policy_path_out_and_keeps_the_users_settings(
    tmp_path: Path,
) -> None:
    """Gemini CLI's report rule: remove deletes swarm's policy file and its path in
    ``policyPaths``; the user's own keys and policy paths stay as they were."""
    desk = Desk(tmp_path)
    settings = desk.ws["Agent-1"] / ".gemini" / "settings.json"
    settings.parent.mkdir()
    mine = {"model": {"name": "gemini-2.5-pro"}, "policyPaths": ["/etc/team-policies"]}
    settings.write_text(json.dumps(mine))
    assert desk.cli("agents", "hooks", "install", "--agent", "agent-1").code == 0
    installed = json.loads(settings.read_text())
    policy = desk.ws["Agent-1"] / ".gemini" / "swarm-reports.toml"
    assert str(policy) in installed["policyPaths"] and policy.exists()
    removed = desk.cli("agents", "hooks", "install", "--agent", "agent-1", "--remove")
    assert removed.code == 0, removed.err
    assert "swarm-reports.toml: swarm's report rule removed" in removed.out
    assert not policy.exists()
    assert json.loads(settings.read_text()) == mine  # the user's folder, added by swarm, too


def test_remove_after_the_user_edited_takes_only_ours_out(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    assert desk.cli("agents", "hooks", "install", "--agent", "agent-1").code == 0
    path = desk.ws["Agent-1"] / ".claude" / "settings.local.json"
    settings = json.loads(path.read_text())
    settings["hooks"]["Stop"].append({"hooks": [{"type": "command", "command": "say done"}]})
    settings["env"] = {"FOO": "1"}
    path.write_text(json.dumps(settings))
    assert desk.cli("agents", "hooks", "install", "--remove", "--agent", "Agent-1").code == 0
    assert json.loads(path.read_text()) == {
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]},
        "env": {"FOO": "1"},
    }
    assert not (desk.ws["Agent-2"] / ".claude").exists()  # --agent: only that one


def test_install_refuses_a_file_that_is_not_json_and_names_an_agent_without_workspace(
    tmp_path: Path,
) -> None:
    desk = Desk(tmp_path)
    broken = desk.ws["Agent-1"] / ".claude" / "settings.local.json"
    broken.parent.mkdir()
    broken.write_text("{oops", encoding="utf-8")
    done = desk.cli("agents", "hooks", "install", "--agent", "Agent-1")
    assert done.code == 2 and done.err.startswith("swarm: error: ")
    assert "not JSON" in done.err and broken.read_text() == "{oops"
    shutil.rmtree(desk.ws["Agent-2"])
    done = desk.cli("agents", "hooks", "install", "--agent", "Agent-2")
    assert done.code == 2 and "has no workspace" in done.err


async def test_a_waiting_hook_reads_the_prompt_only_after_a_commit_and_wakes_for_it(
    tmp_path: Path, desk_service: SwarmService
) -> None:
    from core.agent_state import Signal
    from core.clis.claude_code.hook_dialog import PERMISSION_OPTIONS
    from core.store.commit_watch import CommitWatch

    watch = CommitWatch(desk_service.settings.db_path)
    try:
        assert watch.wakes_on_commits  # Linux: inotify on the store's -wal file
        assert watch.changed() is True  # the first look reads
        assert watch.changed() is False  # nothing committed since
        waiting = asyncio.create_task(watch.wait(60))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # nothing written: it sleeps
        started = time.monotonic()
        await desk_service.store.write("Agent-1", prompts.open_prompt, "Agent-1", Signal.HOOK,
                                 "Allow Bash?", PERMISSION_OPTIONS)  # fmt: skip
        await asyncio.wait_for(waiting, 30)
        assert time.monotonic() - started < 20  # woken by the commit, not its 60 s timeout
        assert watch.changed() is True and watch.changed() is False
    finally:
        watch.close()
    odd = tmp_path / "a ?#% folder"  # a path a URI must quote
    odd.mkdir()
    made = sqlite3.connect(odd / "swarm.db")
    made.execute("PRAGMA journal_mode = WAL")
    quoted = CommitWatch(odd / "swarm.db")
    assert quoted.changed() is True and quoted.changed() is False
    quoted.close()
    made.close()
    assert CommitWatch(None).changed() is True  # no file to watch: read each time
    store_watch = desk_service.store.watch_prompt(1)  # what a waiting hook's intake asks for
    try:  # on SQLite: a commit watch on the store's own file
        assert store_watch.wakes_on_commits and store_watch.changed() is True
        assert store_watch.changed() is False
    finally:
        store_watch.close()
