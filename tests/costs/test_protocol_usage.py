"""Issue 51: where a protocol agent's turns' usage comes from. Claude Code's from its
stream-json turn end; Codex's (codex-acp), Gemini CLI's and opencode's from their own session
files (their protocol gives none, or opencode's last request's alone: ``AgentCli``'s
``protocol_usage``), in the folder their host runs them with (the agent's ``cli_dir``,
written by ``desktop up --protocol``), the protocol's own usage not recorded (no double
count); a turn whose usage is known from neither is a turn of unknown usage and cost, never
of none (real store, SQLite and PostgreSQL; the Codex rollout is tests/costs/data's real one).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from bot.cli.agent_hooks import explain_text
from core.clis import by_name, sessions_folder
from core.clis.codex.rollout import sessions_dir
from core.costs import turns as turn_cost
from core.errors import ConfigError
from core.hosts import wire
from core.models import Agent, TaskSpec
from core.service.swarm import SwarmService
from core.watch.usage_files import UsageFiles
from tests.costs.test_codex_rollout import FIXTURE, NAME, SESSION, WORK, clock, copy_as  # noqa: F401
from tests.costs.test_ledger import Journal, rows

pytestmark = pytest.mark.both_databases
ACP = {"inputTokens": 1000, "outputTokens": 500, "totalTokens": 1500}  # an ACP turn's usage


async def _codex_on_protocol(service: SwarmService, tmp_path: Path, cli_dir: Path | None) -> None:
    agent = Agent("P", "dev", cli="codex", delivery="protocol", workspace=WORK,
                  cli_dir=None if cli_dir is None else str(cli_dir))  # fmt: skip
    await service.replace_agents([agent], tmp_path / "agents.toml")


async def test_a_protocol_agents_turns_are_read_from_its_clis_files_in_its_cli_dir_once(
    service: SwarmService, tmp_path: Path
) -> None:
    """Codex on the protocol route: its rollout is read from the agent's ``cli_dir`` (swarm's
    own environment names no Codex folder), its turns on the task it held; the protocol's turn
    end, even one that says a usage, adds nothing (the files count it)."""
    home = tmp_path / "codex-of-its-host"
    await _codex_on_protocol(service, tmp_path, home)
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={})
    day = sessions_dir(home, WORK) / time.strftime("%Y/%m/%d", time.localtime(service.clock.now()))
    day.mkdir(parents=True)
    task = await service.tasks.create(TaskSpec("count", agent="P"), "test")
    await service.queue.assign_batch()
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0  # the first look: no session yet
    (day / NAME).write_bytes(FIXTURE.read_bytes())  # a session begun since: read from its start
    assert await watch.tick() == 2
    await Journal(service, "P").turn(usage=ACP, meta={"model": "local-model"})
    spend = await service.costs.of_task(task.id)
    assert (spend["cost"].input, spend["cost"].output) == (5000 + 4321, 13 + 87)
    assert [r["source"] for r in await rows(service)] == ["transcript", "transcript"]


def _worktree(home: Path, agent: str, path: str) -> None:
    """What ``swarm workspaces init`` leaves for ``agent``: its worktree in the manifest."""
    from core.workspaces import _manifest as manifest

    folder = manifest.root(home) / "app"
    folder.mkdir(parents=True, exist_ok=True)
    record = manifest.RepoWorkspaces("/src/app", "main", str(folder))
    record.workspaces[agent] = manifest.Workspace(agent, path, f"swarm/{agent}")
    manifest.save(record)


async def test_an_agent_in_the_worktree_init_made_has_its_turns_read_with_no_workspace_key(
    service: SwarmService, tmp_path: Path
) -> None:
    """``swarm workspaces init`` then ``desktop up --protocol``: the agents file names no
    ``workspace`` (init writes none), the manifest names the worktree the agent runs in;
    its rollout is read there, and explain names the folder read."""
    home = tmp_path / "codex-of-its-host"
    agent = Agent("P", "dev", cli="codex", delivery="protocol", cli_dir=str(home))
    await service.replace_agents([agent], tmp_path / "agents.toml")
    _worktree(service.settings.home, "P", WORK)
    day = sessions_dir(home, WORK) / time.strftime("%Y/%m/%d", time.localtime(service.clock.now()))
    day.mkdir(parents=True)
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0
    (day / NAME).write_bytes(FIXTURE.read_bytes())
    assert await watch.tick() == 2
    await Journal(service, "P").turn(usage=ACP, meta={"model": "local-model"})
    assert [r["source"] for r in await rows(service)] == ["transcript", "transcript"]
    said = (await service.explain_agent("P"))["usage"]
    assert said == f"from Codex CLI's session files in {home}", said


async def test_explain_names_the_wrapper_and_the_missing_workspace(
    service: SwarmService, tmp_path: Path
) -> None:
    """An agent whose usage cannot be read is told why: its command a wrapper (``cli_dir``
    written empty), on the protocol route and in tmux; no workspace swarm knows."""
    wrapped = Agent("P", "dev", cli="codex", delivery="protocol", cli_dir="", workspace=WORK)
    tmux = Agent("T", "dev", cli="claude-code", delivery="tmux", cli_dir="", workspace=WORK)
    nowhere = Agent("N", "dev", cli="gemini", delivery="protocol", cli_dir=str(tmp_path))
    await service.replace_agents([wrapped, tmux, nowhere], tmp_path / "agents.toml")
    said = {a: (await service.explain_agent(a))["usage"] for a in ("P", "T", "N")}
    assert "its command is no Codex CLI program of its own (a wrapper script" in said["P"]
    assert said["T"].startswith("unknown: Claude Code's turns are not read")
    assert "a wrapper script" in said["T"] and 'set cli_dir = "/the/folder"' in said["T"]
    assert "the folder it works in is not known" in said["N"], said["N"]


async def test_explain_says_when_a_named_session_folder_is_not_there(
    service: SwarmService, tmp_path: Path
) -> None:
    """A ``cli_dir`` named but not there (a moved HOME, a host on another machine) reads
    nothing: ``swarm agents explain`` says so instead of naming it as the source."""
    home = tmp_path / "codex-of-its-host"
    await _codex_on_protocol(service, tmp_path, home)
    said = (await service.explain_agent("P"))["usage"]
    assert said == f"none read: {home} (its cli_dir) is not a folder here", said
    home.mkdir()
    said = (await service.explain_agent("P"))["usage"]
    assert said == f"from Codex CLI's session files in {home}", said


async def test_the_hosts_session_is_read_from_its_start_after_a_restart_and_counted_once(
    service: SwarmService, tmp_path: Path
) -> None:
    """swarm starts (again) with the host's session file there: its turns are the host's
    (ended while swarm was stopped, or before it first looked), counted at the first look;
    another session of the same workspace there then (the user's own) is past, not counted;
    a second start counts nothing twice."""
    home = tmp_path / "codex-of-its-host"
    await _codex_on_protocol(service, tmp_path, home)
    day = sessions_dir(home, WORK) / time.strftime("%Y/%m/%d", time.localtime(service.clock.now()))
    day.mkdir(parents=True)
    (day / NAME).write_bytes(FIXTURE.read_bytes())
    copy_as(day, "0e0e0e0e", WORK)  # another session, not the host's
    wire.folder(service.settings.home).mkdir(parents=True, exist_ok=True)
    wire.session_path(service.settings.home, "P").write_text(SESSION + "\n", encoding="utf-8")
    assert await UsageFiles(service.store).tick() == 2
    assert await UsageFiles(service.store).tick() == 0  # started again: recorded before
    assert {r["source"] for r in await rows(service)} == {"transcript"}
    assert len(await rows(service)) == 2


async def test_a_protocol_turn_whose_usage_is_known_nowhere_is_of_unknown_cost_never_none(
    service: SwarmService, tmp_path: Path
) -> None:
    """Codex on the protocol route with no ``cli_dir`` (not known: its command's wrapper):
    its files are not read (not even from swarm's own Codex folder, which is not its host's),
    and each turn end is a row of no tokens and unknown cost, though its model has a price;
    ``swarm agents explain`` says why."""
    home = tmp_path / "codex-of-swarm"
    await _codex_on_protocol(service, tmp_path, None)
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"codex": home})
    day = sessions_dir(home, WORK) / time.strftime("%Y/%m/%d", time.localtime(service.clock.now()))
    day.mkdir(parents=True)
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0
    (day / NAME).write_bytes(FIXTURE.read_bytes())
    assert await watch.tick() == 0
    await Journal(service, "P").turn(usage=ACP, meta={"model": "local-model"})
    (row,) = await rows(service)
    assert (row["source"], row["input_tokens"], row["output_tokens"]) == ("protocol", 0, 0)
    assert (row["cost_usd"], row["cost_from"], row["model"]) == (None, "no_usage", "local-model")
    spent = (await service.costs.spend())["agent"][0]
    assert (spent.turns, spent.unknown) == (1, 1)
    assert spent.cost_text() == "unknown (1 turn(s) with no cost)"
    shown = await service.explain_agent("P")
    assert shown["usage"].startswith("unknown: Codex CLI says no turn usage over its protocol")
    assert f"  its turns' usage: {shown['usage']}" in explain_text(shown).splitlines()


async def test_claude_codes_turn_end_without_usage_is_of_unknown_cost(
    service: SwarmService, tmp_path: Path
) -> None:
    """Claude Code's usage is its stream-json turn end's: one that says none (a prompt's
    error) is a turn of unknown cost, not none; explain says where its usage comes from."""
    agent = Agent("C", "dev", cli="claude-code", delivery="protocol", workspace=WORK)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    journal = Journal(service, "C")
    await journal.turn(usage={"input_tokens": 10, "output_tokens": 2}, cost_usd=0.001)
    await journal.turn()
    assert [(r["input_tokens"], r["cost_usd"]) for r in await rows(service)] == [
        (10, pytest.approx(0.001)), (0, None),
    ]  # fmt: skip
    assert (await service.explain_agent("C"))["usage"] == "from its protocol's turn ends"


@pytest.mark.parametrize(
    ("cli", "argv", "env", "found"),
    [
        ("codex", ["/opt/bin/codex-acp"], {"HOME": "/h", "CODEX_HOME": "/c"}, "/c"),
        ("codex", ["codex-acp", "-c", "x=1"], {"HOME": "/h"}, "/h/.codex"),
        ("gemini", ["env", "HOME=/g", "gemini", "--acp"], {"HOME": "/h"}, "/g"),
        ("gemini", ["gemini", "--acp"], {"HOME": "/h", "GEMINI_CLI_HOME": "/gh"}, "/gh"),
        ("opencode", ["opencode", "acp"], {"HOME": "/h"}, "/h/.local/share"),
        ("opencode", ["env", "XDG_DATA_HOME=/d", "opencode", "acp"], {}, "/d"),
        ("gemini", ["env", "-i", "HOME=/g", "gemini", "--acp"], {"HOME": "/h"}, None),
        ("gemini", ["./run-gemini.sh", "--acp"], {"HOME": "/h"}, None),  # a wrapper's own env
        ("gemini", ["env", "HOME=relative", "gemini", "--acp"], {}, None),
        ("gemini", ["gemini", "--acp"], {}, None),  # no HOME
        ("aider", ["aider"], {"HOME": "/h"}, None),  # no session files swarm reads
    ],
)
def test_the_folder_a_protocol_host_runs_its_cli_with(
    cli: str, argv: list[str], env: dict[str, str], found: str | None
) -> None:
    known = by_name(cli)
    assert known is not None
    folder = sessions_folder(known, argv, env)
    assert folder == (None if found is None else Path(found))


def test_each_protocol_clis_usage_source_is_declared_in_its_module() -> None:
    """Claude Code's turn end gives the whole turn's usage; codex-acp 0.16.0 and Gemini CLI
    0.61.0 give none, opencode 1.18.33 its last request's: their files are read. Mistral
    Vibe 3.0.2's gives its session's running total: its host journals each turn's own."""
    names = ("claude-code", "codex", "gemini", "opencode", "mistral-vibe")
    known = [cli for cli in map(by_name, names) if cli is not None]
    declared = {cli.name: (cli.protocol_usage, cli.cumulative_usage) for cli in known}
    assert declared == {"claude-code": ("turn_end", False), "codex": ("sessions", False),
                        "gemini": ("sessions", False), "opencode": ("sessions", False),
                        "mistral-vibe": ("turn_end", True)}  # fmt: skip
    gemini = Agent("G", "dev", cli="gemini", delivery="protocol", cli_dir="/h", workspace="/w")
    assert turn_cost.protocol_usage(gemini)[0] is turn_cost.UsageSource.SESSIONS
    vibe = dataclasses.replace(gemini, cli="mistral-vibe")
    assert turn_cost.protocol_usage(vibe) == (
        turn_cost.UsageSource.TURN_END,
        "from its protocol's turn ends (what each added to its session's running total)",
    )
    nowhere = dataclasses.replace(gemini, workspace=None)  # its sessions are found by it
    assert turn_cost.protocol_usage(nowhere)[0] is turn_cost.UsageSource.UNKNOWN


@pytest.mark.parametrize(("value", "found"), [('"/h/.codex"', "/h/.codex"), ('""', "")])
def test_the_agents_files_cli_dir(tmp_path: Path, value: str, found: str | None) -> None:
    from core.agents_file import load_agents

    path = tmp_path / "agents.toml"
    path.write_text(f'[[agent]]\nid = "A"\nrole = "dev"\ncli = "codex"\ncli_dir = {value}\n')
    (agent,) = load_agents(path)
    assert agent.cli_dir == found


@pytest.mark.parametrize("value", ['"relative/.codex"', "3"])
def test_a_cli_dir_that_is_no_absolute_path_is_refused_in_one_line(
    tmp_path: Path, value: str
) -> None:
    from core.agents_file import load_agents

    path = tmp_path / "agents.toml"
    path.write_text(f'[[agent]]\nid = "A"\nrole = "dev"\ncli = "codex"\ncli_dir = {value}\n')
    with pytest.raises(ConfigError, match="cli_dir must be an absolute path") as raised:
        load_agents(path)
    assert "\n" not in str(raised.value)


async def test_a_tmux_agent_behind_a_wrapper_shows_unknown_and_its_budget_holds_it(
    service: SwarmService, tmp_path: Path
) -> None:
    """Claude Code in tmux behind a wrapper script (``desktop up`` wrote ``cli_dir = ""``):
    its files cannot be found, so its task's cost is unknown, never $0, and its daily budget
    of $0.00001, which cannot be kept, holds it from new work with a person asked."""
    agent = Agent("T", "dev", cli="claude-code", delivery="tmux", cli_dir="", workspace=WORK,
                  daily_budget=0.00001)  # fmt: skip
    await service.replace_agents([agent], tmp_path / "agents.toml")
    task = await service.tasks.create(TaskSpec("work", agent="T"), "test")
    await service.queue.assign_batch()
    from bot.cli.tasks import cost_json, cost_lines

    spend = await service.costs.of_task(task.id)
    assert cost_json(spend)["cost"]["cost_usd"] is None
    assert cost_lines(spend).startswith("Cost:     unknown (0 turn(s) recorded; T's unknown")
    await UsageFiles(service.store).tick()
    await service.tasks.complete(task.ref, "T")
    later = await service.tasks.create(TaskSpec("later", agent="T"), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(later.id)).agent is None
    (item,) = [n for n in await service.inbox.needs() if n.kind == "budget"]
    assert "T's today's budget cannot be kept" in item.text, item.text


async def test_a_session_file_another_process_wrote_in_its_workspace_is_not_its_own(
    service: SwarmService, tmp_path: Path
) -> None:
    """Hardening 5, item 5: a Codex session file written into a protocol agent's workspace
    by another process (another agent, with its own session) charged the agent ($9,521 in
    the attack). Only the turns of the session the agent's host has open are its own."""
    home = tmp_path / "codex-of-its-host"
    await _codex_on_protocol(service, tmp_path, home)
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={})
    session_file = wire.session_path(service.settings.home, "P")
    session_file.parent.mkdir(parents=True, exist_ok=True)
    session_file.write_text(SESSION, encoding="utf-8")
    day = sessions_dir(home, WORK) / time.strftime("%Y/%m/%d", time.localtime(service.clock.now()))
    day.mkdir(parents=True)
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0  # the first look
    copy_as(day, "f0f0f0f0", WORK)  # a foreign session in the agent's workspace, begun since
    assert await watch.tick() == 0
    (day / NAME).write_bytes(FIXTURE.read_bytes())  # its host's own session
    assert await watch.tick() == 2
