"""The real Codex through codex-acp (pinned) does a small task inside swarm's bubblewrap
sandbox in its no-prompt mode on the protocol route. codex-acp 0.16.0 takes no Codex flag but
``-c key=value`` (its ``--help``; ``--dangerously-bypass-approvals-and-sandbox`` is refused:
tests/agents/test_protocol_refused_args.py), so the agents file's command is ``codex -c
approval_policy=never -c sandbox_mode=danger-full-access``: no approval asked, its own sandbox
off (swarm's is the boundary). Started by ``swarm workspaces init`` and ``swarm desktop up
--protocol`` as a user starts it, against localmodel through swarm's gateway. Its shell writes
a file in its worktree and reports ``swarm task start`` through its door; swarm's MCP
``report`` tool reports ``done``: its session's server is its door's ``swarm mcp``, which
codex-acp starts inside the sandbox (Codex reports by MCP by default); no permission request
reaches "Needs you"; swarm's database and a key planted in the person's ``~/.ssh`` cannot be
read from its shell; each turn ran with the policies the command named.

One codex-acp for the module: the test runs in the one fixture that starts it."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from automation.protocol.watch import ProtocolWatch
from automation.routes import build_deliverer
from core.agents._judge import Freshness
from core.coordinator.prompt_keys import PromptKeys
from core.coordinator.scheduler import Scheduler
from core.dialogs import permissions as prompts
from core.models import TaskSpec
from core.sandbox import DOOR_SWARM
from core.service.swarm import SwarmService
from tests.agents.launch import _git
from tests.agents.live import LocalModel, base_env, require_binary
from tests.agents.test_costs_known_live import AGENT, Rig
from tests.agents.test_protocol_live import Swarm
from tests.conftest import skip_or_fail
from tests.helpers import ROOT

pytestmark = pytest.mark.xdist_group("codex-live")

NO_PROMPT = "-c approval_policy=never -c sandbox_mode=danger-full-access"
PROMPT = "do the small task"
NOTE = "by-mcp-in-bwrap"  # said only by the MCP report's call
PROBE = (
    "echo made > made-here.txt; "
    "(test -r {home}/swarm.db && echo db=read || echo db=hidden) > seen.txt; "
    "(cat {user}/.ssh/id_ed25519 2>/dev/null || echo ssh=hidden) >> seen.txt; "
    "{swarm} task start T-1 --note from-shell >> seen.txt 2>&1"
)
SCRIPT = """
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "{prompt}"
steps = [
  {{ text = "Doing it.", shell = "{probe}" }},
  {{ tool = "report", input = {{ action = "done", task = "T-1", note = "{note}" }} }},
  {{ text = "small task reported" }},
]
"""


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    binary = require_binary("codex")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    made = Rig("codex", tmp_path_factory.mktemp("codex-acp-noprompt").resolve())
    made.repo.mkdir()
    _git(made.repo, commit=True)
    home = made.root / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("SECRET-KEY\n", encoding="utf-8")
    probe = PROBE.format(home=made.home, user=home, swarm=DOOR_SWARM)
    model = LocalModel(made.root, SCRIPT.format(prompt=PROMPT, probe=probe, note=NOTE))
    codex_agent(made, home, model, f"{binary} {NO_PROMPT}")
    yield from up_protocol(made, model)


@pytest.fixture
async def swarm(rig: Rig) -> AsyncIterator[Swarm]:
    service = await SwarmService.open(rig.settings)
    deliverer = build_deliverer(rig.settings, list(service.agents.values()), service.kill_switch)
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    made = Swarm(service, deliverer, watch, PromptKeys(service, deliverer, None))
    try:
        yield made
    finally:
        await made.watch.stop()
        deliverer.close()
        await made.service.close()


@pytest.mark.timeout(300)
async def test_codex_acp_with_no_approvals_does_a_task_in_the_sandbox_unasked(
    rig: Rig, swarm: Swarm
) -> None:
    await small_task(rig, swarm)
    assert _policies(rig) == {("never", "danger-full-access")}


async def small_task(rig: Rig, swarm: Swarm) -> None:
    """T-1 delivered by the scheduler, started by the agent's shell through its door and done
    by swarm's MCP ``report`` (its door's server), with no permission request nor item on
    the way; what its shell could read, as it wrote it."""
    task = await swarm.service.tasks.create(TaskSpec(PROMPT, PROMPT, agent=AGENT), "me")
    assert task.ref == "T-1"
    burst = asyncio.create_task(Scheduler(swarm.service, swarm.deliverer).run_burst())
    while not burst.done():
        await swarm.watch.fire()
        await asyncio.sleep(0.1)
    assert (await burst).delivered == 1
    asked: list[str] = []

    async def done() -> bool:
        asked.extend(p.text for p in await swarm.service.store.read(prompts.open_prompts, AGENT))
        return (await swarm.service.tasks.get(task.id)).status.value == "done"

    await swarm.until(done, within=180)
    assert asked == [], asked  # no permission request: nothing for a person
    assert json.loads(rig.swarm("inbox", "--json").stdout or "[]") == []
    work = rig.worktree
    assert (work / "made-here.txt").read_text() == "made\n"
    seen = (work / "seen.txt").read_text()
    assert "db=hidden" in seen and "ssh=hidden" in seen and "SECRET" not in seen, seen
    assert "T-1 [in_progress]" in seen, seen  # the shell's report, through the door
    shown = json.loads(rig.swarm("task", "show", "T-1", "--json").stdout)
    (ended,) = [e for e in shown["events"] if e["kind"] == "task.done"]
    assert ended["actor"] == AGENT and NOTE in json.dumps(ended), ended  # its MCP report


def _policies(rig: Rig) -> set[tuple[str, str]]:
    """The approval policy and sandbox type of each turn codex-acp ran, from the rollout it
    wrote in the agent's own ``~/.codex`` (its default: ``on-request`` and
    ``workspace-write``, whose bubblewrap fails inside swarm's: "bwrap: setting up uid map:
    Operation not permitted", measured)."""
    sessions = rig.home / "sandboxes" / AGENT / "home" / ".codex" / "sessions"
    found = set()
    for rollout in sessions.rglob("*.jsonl"):
        for line in rollout.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry.get("type") == "turn_context":
                said = entry["payload"]
                found.add((said["approval_policy"], said["sandbox_policy"]["type"]))
    return found


def codex_agent(
    made: Rig,
    home: Path,
    model: LocalModel,
    command: str,
    key: str = "sk-person",
    flag: str = "sandbox",
    features: str = "",
) -> None:
    """``made``'s agent file and environment for codex-acp as a person sets it up: Codex's
    ``~/.codex/config.toml`` (its model, ``features`` before the project, the worktree
    trusted), A with ``flag = true`` (``sandbox`` or ``gateway``) run by ``command``, the
    person's ``OPENAI_*`` pointing at ``model``."""
    (home / ".codex").mkdir(parents=True, exist_ok=True)
    (home / ".codex" / "config.toml").write_text(
        f'model = "local-model"\n\n{features}[projects."{made.worktree}"]\n'
        'trust_level = "trusted"\n',
        encoding="utf-8",
    )
    made.config.write_text(
        f'[[agent]]\nid = "{AGENT}"\nrole = "dev"\ncli = "codex"\n{flag} = true\n'
        f"\n[desktop]\ncommand = {json.dumps(command)}\n",
        encoding="utf-8",
    )
    made.env = {
        **base_env(home), "OPENAI_BASE_URL": f"{model.url}/v1", "OPENAI_API_KEY": key,
        "SWARM_HOME": str(made.home), "SWARM_CONFIG": str(made.config), "PYTHONPATH": str(ROOT),
    }  # fmt: skip


def up_protocol(made: Rig, model: LocalModel) -> Iterator[Rig]:
    """``made``'s workspaces made and its agent started on the protocol route, sandboxed, as
    a person does (``swarm workspaces init``, ``swarm desktop up --protocol``), its model
    kept on it; ended after (``desktop down``, the model stopped)."""
    try:
        init = made.swarm("workspaces", "init", str(made.repo))
        assert init.returncode == 0, init.stdout + init.stderr
        up = made.swarm("desktop", "up", "--protocol", "--json")
        assert up.returncode == 0, up.stdout + up.stderr
        made.model = model  # type: ignore[attr-defined]
        yield made
    finally:
        made.swarm("desktop", "down", "--headless")
        model.stop()


ONLY_MCP = """
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "{prompt}"
steps = [
  {{ tool = "report", input = {{ action = "done", task = "T-1", note = "{note}" }} }},
  {{ text = "small task reported" }},
]
"""


@pytest.fixture(scope="module")
def at_defaults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """codex-acp sandboxed at its defaults (``on-request``, ``workspace-write``): the agents
    file's command is ``codex`` alone."""
    binary = require_binary("codex")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    made = Rig("codex", tmp_path_factory.mktemp("codex-acp-defaults").resolve())
    made.repo.mkdir()
    _git(made.repo, commit=True)
    home = made.root / "home"
    home.mkdir()
    model = LocalModel(made.root, ONLY_MCP.format(prompt=PROMPT, note=NOTE))
    codex_agent(made, home, model, str(binary))
    yield from up_protocol(made, model)


@pytest.mark.timeout(300)
async def test_codex_acp_at_its_defaults_reports_by_swarms_mcp_tools_unasked(
    at_defaults: Rig,
) -> None:
    """Issue 79: at codex-acp's defaults each call of swarm's MCP tools was a permission
    request ("Approve MCP tool call?") in "Needs you": an unattended agent waited for a person
    to let it report its own work. swarm's server alone is trusted now (its tools'
    ``default_tools_approval_mode``, on codex-acp's command line: ``session_args``); the
    turn's policies stay codex-acp's defaults."""
    rig = at_defaults
    service = await SwarmService.open(rig.settings)
    deliverer = build_deliverer(rig.settings, list(service.agents.values()), service.kill_switch)
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    swarm = Swarm(service, deliverer, watch, PromptKeys(service, deliverer, None))
    try:
        task = await service.tasks.create(TaskSpec(PROMPT, PROMPT, agent=AGENT), "me")
        burst = asyncio.create_task(Scheduler(service, deliverer).run_burst())
        while not burst.done():
            await watch.fire()
            await asyncio.sleep(0.1)
        assert (await burst).delivered == 1
        asked: list[str] = []

        async def done_or_asked() -> bool:
            asked.extend(p.text for p in await service.store.read(prompts.open_prompts, AGENT))
            return bool(asked) or (await service.tasks.get(task.id)).status.value == "done"

        await swarm.until(done_or_asked, within=180)
        assert asked == [], asked  # no "Approve MCP tool call?" for a person
    finally:
        await watch.stop()
        deliverer.close()
        await service.close()
    shown = json.loads(rig.swarm("task", "show", "T-1", "--json").stdout)
    (ended,) = [e for e in shown["events"] if e["kind"] == "task.done"]
    assert ended["actor"] == AGENT and NOTE in json.dumps(ended), ended  # its MCP report
    assert _policies(rig) == {("on-request", "workspace-write")}  # its defaults, no blanket
