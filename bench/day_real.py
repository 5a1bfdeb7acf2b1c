"""A day with the real agent CLIs: Claude Code, Codex and Gemini CLI mixed, on two delivery
nodes over PostgreSQL, each agent doing its tasks by calling swarm's MCP ``report`` tool.

Run: ``.venv/bin/python bench/day_real.py [--each 2 | --agents N] [--tasks 60]
[--broadcasts 2] [--protocol] [--usage] [--timings] [--keep]``.

A throwaway PostgreSQL cluster; ``--each`` agents of each of the three pinned CLIs
(tests/agents/launch.py: its own HOME and tmux server, against its own ``python -m
localmodel``), half on each of two ``swarm node`` processes (``desk-1``, ``desk-2``, standing
for two machines) beside a real ``swarm run --no-discord``. Each agent's workspace gets
swarm's hooks and MCP server as a person gets them (``swarm agents hooks install``,
``swarm agents mcp install``), and the first start's dialogs are answered as a person would
(Claude Code's "New MCP server found", Codex's "Hooks need review"). The model's script: a
task's prompt makes it call ``report`` (``action = "done"``), then say it did; one task in
``ASK_EVERY`` makes it ask the person first (MCP ``ask_human``) and report once the answer
comes; a broadcast makes it answer in words. The tasks are ``bench/day_at_scale.py``'s
(about a third wait for one or two earlier ones). Claude Code asks the person before each
MCP call (its default permission mode): that dialog reaches swarm through its hook and is
approved through swarm's inbox, as a person would from Discord.

Prints, from swarm's store and each model server's record of what its CLI sent: prompts lost
(never in a model request), doubled (a prompt in more than one user message of its CLI's
conversation), recorded delivered but never sent to the model; tasks whose prompt the model
got but that were never reported done (the day ends once none was done for 60 s: the script
answers only a turn's latest prompt, so a message typed into the turn, as Codex takes it,
gets the answer in its place; a real model sees both); a
broadcast until every agent's model has it; assignment to the agent's turn start (its first
model request with the prompt: p50/p99, by CLI); swarm's CPU per agent (coordinator and
nodes) and memory, and how long those processes were ready to run but waited for a core
(Linux's run-queue wait, their threads summed); the permission prompts approved. The model
answers at once: model time is not in the figures.

With ``--protocol`` (issue 50's route) each agent is a protocol agent instead of a tmux pane:
its CLI under a host process of swarm's (ACP: Gemini CLI ``--acp``, Codex through codex-acp;
Claude Code's stream-json), started as ``swarm desktop up --protocol --node NODE`` starts them,
once per node, each agent's command its own ``[desktop.agent.<id>]`` ``command`` (``env HOME=...
<its localmodel's URL> <cli> ...``: the agents file's way to give an agent its own
environment), without the settings that quiet Claude Code; swarm's MCP server is passed with
the session (no hooks, no ``.mcp.json``); Claude Code's permission requests reach swarm's inbox
through its protocol. The hosts count as swarm's processes in its CPU and memory (their
share also apart); they are ended when the day ends, also on failure, Ctrl-C or SIGTERM.
From the hosts' journals it prints too: assignment to the host handing the prompt to its
CLI, and swarm's own part of it (from the later of the assignment and the end of the agent's
previous turn: a task is given once the last is reported, while that turn still ends), also
without each agent's first task (its onboarding, in the first wave that meets every CLI's
own start); a broadcast until every host handed it over. With ``--timings`` the nodes log
each delivery's steps (``swarm node --timings``) and swarm's own part is given step by step:
from its start to the claim that delivered it, the claim, the prompt's build (the
workspace's read, the turn's record), the send until the host journaled it; the 5 slowest
with their steps.

The three routes mixed under one coordinator, ``swarm run`` killed and started again in the
middle (issue 50's Done-when): ``bench/day_mixed.py``, which reuses this module's parts.

With ``--usage`` (issue 51's day) there is one agent of each of Claude Code, Codex, Gemini CLI
and opencode in tmux, each CLI's own folder named in swarm's environment (where its usage
watch reads the turns), the day's tasks in one campaign (``swarm campaign create``); once
the day ends and the ledger has settled, ``swarm stats --json``'s cost per task, agent and
campaign is printed beside each agent's model server's count of the usage it reported, and
the difference (bench/day_usage.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import psycopg  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402

from automation.protocol import launch as hosts  # noqa: E402
from bench import day_defaults  # noqa: E402
from bench import day_usage as usage  # noqa: E402
from bench.day_at_scale import (  # noqa: E402
    NODES,
    ROLES,
    Day,
    Person,
    cpu_share,
    percentiles,
    start_swarm,
    swarm_cpu,
    swarm_rss_mb,
)
from bench.day_at_scale import specs as day_specs  # noqa: E402
from bench.pg_load import _cpu, server_cpu  # noqa: E402
from bench.scale import new_database, pg_programs  # noqa: E402
from core.clis.hook_files import HOOK_TIMEOUT_S  # noqa: E402
from core.clis.logs import log_path  # noqa: E402
from core.hosts import running, wire  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.agents.deliveries import MAIN_PATHS  # noqa: E402
from tests.agents.launch import SETUPS, launch, stop  # noqa: E402
from tests.agents.live import LiveCLI, LocalModel, require_binary  # noqa: E402
from tests.pgcluster import Cluster, cluster, free_port  # noqa: E402

CLIS = ("claude-code", "codex", "gemini")
USAGE_CLIS = (*CLIS, "opencode")  # --usage: one agent of each
DEFAULTS_CLIS = (*USAGE_CLIS, "gemini-yolo")  # --defaults: one of each, Gemini twice
MODES = {"gemini-yolo": ("gemini", ("--approval-mode", "yolo"))}  # a CLI in another mode
GRACE_S = 120.0  # SWARM_GRACE, the default: a silent turn is nudged within it
READY = {
    "claude-code": "? for shortcuts",
    "codex": "? for shortcuts",
    "gemini": "Type your message or @path/to/file",
    "opencode": "Ask anything",
}
GUIDELINES = "please read the new guidelines"
ASK = "ask the person which branch first"
ANSWER = "main, as usual"  # what the person answers (bench.day_at_scale.Person)
ASK_EVERY = 25  # a task in this many asks the person first
SCRIPT = f"""
default = [{{ tool = "report", input = {{ action = "done", note = "done by the model" }} }},
           {{ text = "reported" }}]

[[turns]]
match = "{GUIDELINES}"
text = "read them"

[[turns]]
match = "{day_defaults.QUIET}"
text = "Finished it."

[[turns]]
match = "{ASK}"
steps = [{{ tool = "ask_human", input = {{ question = "Which branch?" }} }},
         {{ text = "asked" }}]
"""
TASK = re.compile(r"\| task T-(\d+) \|")
# the settings that keep Claude Code quiet in tmux: a protocol agent runs without them, as a
# user runs it (tests/agents/test_protocol_live.py)
QUIETING = ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "IS_SANDBOX", "DISABLE_TELEMETRY")
HOST_START_S = 30.0  # a host's start at most, loaded (Gemini CLI's: 15 s on 2 busy cores)
STUCK_S = 60.0  # the day ends when no task was done for this long (its figures say which)


@dataclass
class Agent:
    """One real CLI agent: its id, CLI, node, its live pane (tmux) or its command (protocol),
    and its model server."""

    id: str
    cli: str
    node: str
    work: Path
    live: LiveCLI | None = None
    command: str | None = None  # protocol: its [desktop.agent] command
    model: LocalModel | None = None
    args: tuple[str, ...] = ()  # added to its command line (a mode: Gemini CLI's yolo)


def plan_agents(root: Path, count: int, clis: tuple[str, ...] = CLIS) -> list[Agent]:
    """``count`` agents, the CLIs in turn, alternating over the nodes, each with its
    workspace."""
    made = []
    for n in range(count):
        cli, args = MODES.get(clis[n % len(clis)], (clis[n % len(clis)], ()))
        work = root / "agents" / f"Agent-{n + 1}" / "work"
        work.mkdir(parents=True)
        subprocess.run(["git", "-C", str(work), "init", "-q"], check=True, timeout=30)
        made.append(Agent(f"Agent-{n + 1}", cli, NODES[n % len(NODES)], work, args=args))
    return made


def write_agents(path: Path, agents: list[Agent], nice: int | None = None) -> Path:
    """The agents file: agents of known CLIs, with swarm's MCP server, in three roles; tmux
    agents, or (``command`` set) each protocol agent's command in its ``[desktop.agent]``
    section, for ``swarm desktop up --protocol`` to start and write ``delivery = "protocol"``
    (``nice``: the ``[desktop]`` section's, how much lower their CLIs' CPU priority is)."""
    lines = ["[desktop]", f"nice = {nice}", ""] if nice is not None else []
    for n, agent in enumerate(agents):
        lines += [
            "[[agent]]", f'id = "{agent.id}"', f'role = "{ROLES[n % len(ROLES)]}"',
            f'cli = "{agent.cli}"', 'app = "terminal"',
            f'node = "{agent.node}"', "mcp = true", f'workspace = "{agent.work}"',
        ]  # fmt: skip
        if agent.command is not None:
            pass
        elif agent.live is None:  # before its CLI starts (the installs read the workspaces)
            lines.append('delivery = "inbox"')
        else:
            lines += ['delivery = "tmux"', f'tmux = "{agent.live.target}"',
                      f'tmux_socket = "{agent.live.tmux.socket}"']  # fmt: skip
        lines.append("")
    for agent in agents:
        if agent.command is not None:
            lines += [f"[desktop.agent.{agent.id}]", f"command = {json.dumps(agent.command)}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def usage_folders(agents: list[Agent]) -> dict[str, str]:
    """The coordinator's environment naming each CLI's own folder (where swarm reads its
    turns): the folder under its one agent's HOME (tests/agents/launch.py)."""
    clis = [a.cli for a in agents]
    if len(set(clis)) != len(clis):
        raise SystemExit("--usage: one agent of each CLI (each has its own HOME)")
    folders = {
        "claude-code": ("CLAUDE_CONFIG_DIR", ".claude"),
        "codex": ("CODEX_HOME", ".codex"),
        "gemini": ("GEMINI_CLI_HOME", ""),
        "opencode": ("XDG_DATA_HOME", ".local/share"),
    }
    return {folders[a.cli][0]: str(a.work.parent / "home" / folders[a.cli][1]) for a in agents}


def stats_json(day: Day) -> dict[str, Any]:
    """``swarm stats --json --period 1d`` as the person runs it."""
    return dict(json.loads(swarm_cli(day, "stats", "--json", "--period", "1d")))


def swarm_cli(day: Day, *args: str, timeout: float = 120) -> str:
    """``swarm ARGS`` as the person runs it on this day's swarm; its output."""
    done = subprocess.run([sys.executable, "-m", "bot.cli.main", *args], cwd=ROOT,
                          env={**os.environ, **day.env}, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"swarm {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def start_cli(day: Day, agent: Agent) -> None:
    """The agent's CLI in its workspace, its first start's dialogs answered as a person."""
    env = {"SWARM_DATABASE_URL": day.url, "SWARM_AGENT": agent.id}
    if agent.cli == "gemini":  # its retries, read where swarm desktop up has it write them
        log = log_path(Path(day.env["SWARM_HOME"]), agent.id)
        log.parent.mkdir(parents=True, exist_ok=True)
        env["GEMINI_DEBUG_LOG_FILE"] = str(log)
    first = {"claude-code": "New MCP server found", "codex": "Hooks need review"}
    root = agent.work.parent
    agent.live = live = launch(agent.cli, root, SCRIPT, work=agent.work, env=env,
                               ready=first.get(agent.cli, READY[agent.cli]),
                               args=agent.args)  # fmt: skip
    agent.model = live.model
    answer_first_start(live, agent.cli)


def answer_first_start(live: LiveCLI, cli: str) -> None:
    """The first start's dialog of ``cli`` answered as a person does (Claude Code's "New MCP
    server found", Codex's "Hooks need review"), until its input shows."""
    if cli == "claude-code":  # "Use this MCP server", the arrows' first line
        time.sleep(1.0)
        live.keys("Up")
        live.wait("❯ Use this and all future")
        live.keys("Up")
        live.wait("❯ Use this MCP server")
        time.sleep(0.3)
        live.keys("Enter")
    elif cli == "codex":  # "Trust all and continue"
        time.sleep(1.0)
        live.keys("2")
        live.wait("› 2. Trust all and continue")
        live.keys("Enter")
    live.wait(READY[cli], timeout=60)


def protocol_command(agent: Agent) -> None:
    """The agent's model server, and its command as a user writes it in the agents file: its
    CLI's setup (its own HOME, its model's URL: tests/agents/launch.py) as ``env`` settings
    before the program; swarm adds the protocol's flags."""
    root = agent.work.parent
    agent.model = LocalModel(root, SCRIPT)
    setup = SETUPS[agent.cli](require_binary(agent.cli), root / "home", agent.work,
                              agent.model.url)  # fmt: skip
    env = [f"{k}={v}" for k, v in setup.env.items() if k not in QUIETING]
    agent.command = shlex.join(["env", *env, *setup.argv])


def start_hosts(day: Day, agents: list[Agent]) -> None:
    """``swarm desktop up --protocol --node NODE`` for each node, as its person runs it on
    that machine: every agent a protocol agent under its host."""
    for node in NODES:
        count = sum(1 for a in agents if a.node == node)
        if not count:
            continue
        up = ["desktop", "up", "--protocol", "--node", node, "--json"]
        wait = 60 + HOST_START_S * count  # its hosts start one after another
        rows = json.loads(swarm_cli(day, *up, timeout=wait))
        wrong = [r for r in rows if r.get("delivery") != "protocol"]
        if wrong:
            raise SystemExit(f"swarm desktop up --protocol: not protocol agents: {wrong}")


def stop_hosts(home: Path, agents: list[str]) -> list[str]:
    """End every protocol host of the day (and its CLI): the agents whose host still runs."""
    left = [agent for agent in agents if running.host_pid(home, agent) is not None]
    for agent in left:
        asyncio.run(hosts.stop(home, agent))
    return left


def host_pids(day: Day) -> list[int]:
    """The day's protocol hosts that run (swarm's processes; not their CLIs)."""
    home = Path(day.env["SWARM_HOME"])
    found = (running.host_pid(home, agent) for agent in day.agents)
    return [pid for pid in found if pid is not None]


def hosts_cpu(day: Day) -> float:
    """CPU seconds so far of the day's protocol hosts."""
    return sum(_cpu(f"/proc/{pid}/stat") or 0.0 for pid in host_pids(day))


def hosts_rss_mb(day: Day) -> float:
    """Resident memory of the day's protocol hosts, MB."""
    total = 0
    for pid in host_pids(day):
        status = Path(f"/proc/{pid}/status")
        for line in status.read_text().splitlines() if status.exists() else ():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def host_prompts(home: Path, agent: str) -> list[tuple[float, str, float]]:
    """The prompts ``agent``'s protocol host handed its CLI (its journal's ``turn`` entries):
    when (swarm's own part of a turn start ends there, the CLI's begins), the text, and when
    the turn before it ended (the host takes no prompt during a turn)."""
    return [(at, text, ended) for at, text, ended, _ in host_turns(home, agent)]


def host_turns(home: Path, agent: str) -> list[tuple[float, str, float, int]]:
    """``host_prompts`` with each prompt's delivery id."""
    try:
        lines = wire.journal_path(home, agent).read_bytes().splitlines()
    except OSError:
        return []
    found, ended = [], 0.0
    for entry in (wire.decode(line) for line in lines if line.strip()):
        if entry.get("type") in (wire.TURN_END, wire.TURN_ERROR):
            ended = float(entry["at"])
        elif entry.get("type") == wire.TURN:
            text = str(entry.get("text") or "")
            found.append((float(entry["at"]), text, ended, int(entry.get("delivery") or 0)))
    return found


def user_prompts(body: Any) -> list[str]:
    """The texts of the user's messages in a request's conversation (not tool results), in
    each API's shape: Anthropic and Chat ``messages``, Responses ``input``, Gemini ``contents``."""
    if not isinstance(body, dict):
        return []
    items = body.get("messages") or body.get("input") or body.get("contents") or []
    texts = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("role") != "user":
            continue
        parts = item.get("content", item.get("parts"))
        if isinstance(parts, str):
            texts.append(parts)
            continue
        words = [p.get("text", "") for p in parts or [] if isinstance(p, dict)
                 and p.get("type", "text") in ("text", "input_text")]  # fmt: skip
        if any(words):
            texts.append("\n".join(words))
    return texts


def model_record(agent: Agent) -> list[dict[str, Any]]:
    """What the agent's CLI sent its model on its turns (not side requests)."""
    assert agent.model is not None
    path = MAIN_PATHS[agent.cli]
    return [r for r in agent.model.requests() if path in r["path"]]


def user_texts(agent: Agent) -> list[tuple[float, str]]:
    """Every user text the agent's model was sent, with when it first was: a prompt typed
    into a turn under way reaches it inside a later request (Claude Code: "The user sent a
    new message while you were working"), not as the latest prompt."""
    first: dict[str, float] = {}
    for request in model_record(agent):
        for text in user_prompts(request["body"]):
            first.setdefault(text, request["at"])
    return [(at, text) for text, at in first.items()]


def judge(agents: list[Agent], ids: list[int], rows: dict[str, Any], home: Path) -> dict[str, Any]:
    """Lost, doubled and falsely delivered prompts; assignment to turn start by CLI (and, of
    protocol agents, to the prompt's hand-over by the host)."""
    first_seen: dict[int, float] = {}
    doubled: set[int] = set()
    sent: dict[str, list[str]] = {}
    for agent in agents:
        requests = model_record(agent)
        sent[agent.id] = [" ".join(text.split()) for _, text in user_texts(agent)]
        for request in requests:
            counts: dict[int, int] = {}
            for text in user_prompts(request["body"]):
                for found in TASK.finditer(text):
                    counts[int(found.group(1))] = counts.get(int(found.group(1)), 0) + 1
            doubled |= {task for task, n in counts.items() if n > 1}
            for task in counts:
                first_seen[task] = min(first_seen.get(task, request["at"]), request["at"])
    handed: dict[int, float] = {}
    ready: dict[int, float] = {}  # the agent's previous turn's end, when after the assignment
    for agent in agents:
        for at, text, ended in host_prompts(home, agent.id):
            for found in TASK.finditer(text):
                handed.setdefault(int(found.group(1)), at)
                ready.setdefault(int(found.group(1)), ended)
    own = {t: at - max(0.0, ready[t] - rows["assigned"].get(t, ready[t]))
           for t, at in handed.items()}  # fmt: skip
    # the turn's start without the last turn's rest (model time): the same start as ``own``
    later = {t: first_seen[t] - max(0.0, ready[t] - rows["assigned"].get(t, ready[t]))
             for t in handed if t in first_seen}  # fmt: skip
    cli_own = {t: first_seen[t] - at for t, at in handed.items() if t in first_seen}
    return {
        **_lost_and_doubled(ids, rows, first_seen, doubled, sent),
        "first_seen": first_seen,  # task -> its prompt's first model request
        "turn_start_s": _by_cli(agents, ids, rows, first_seen),
        "host_prompt_s": _by_cli(agents, ids, rows, handed),
        "own_s": _by_cli(agents, ids, rows, own),
        "own_later_s": _by_cli(agents, ids, rows, _after_first(rows, own)),
        "later_turn_start_s": _by_cli(agents, ids, rows, later),
        "cli_own_s": _spans_by_cli(agents, rows, cli_own),
    }


def _after_first(rows: dict[str, Any], seen: dict[int, float]) -> dict[int, float]:
    """``seen`` without each agent's first task (its prompt carries the onboarding, and the
    first wave meets every CLI's own start)."""
    first: dict[str, int] = {}
    for task in sorted(rows["assigned"], key=rows["assigned"].__getitem__):
        first.setdefault(rows["assignee"].get(task, ""), task)
    firsts = set(first.values())
    return {task: at for task, at in seen.items() if task not in firsts}


def _spans_by_cli(
    agents: list[Agent], rows: dict[str, Any], spans: dict[int, float]
) -> dict[str, list[float]]:
    """Each task's span (seconds) by its agent's CLI."""
    cli_of = {a.id: a.cli for a in agents}
    by_cli: dict[str, list[float]] = {}
    for task, span in spans.items():
        by_cli.setdefault(cli_of.get(rows["assignee"].get(task, ""), "?"), []).append(span)
    return by_cli


def _by_cli(
    agents: list[Agent], ids: list[int], rows: dict[str, Any], seen: dict[int, float]
) -> dict[str, list[float]]:
    """Seconds from each task's assignment to ``seen``, by its agent's CLI."""
    by_cli: dict[str, list[float]] = {}
    owner = rows["assignee"]
    cli_of = {a.id: a.cli for a in agents}
    for task in ids:
        if task in seen and task in rows["assigned"]:
            cli = cli_of.get(owner.get(task, ""), "?")
            by_cli.setdefault(cli, []).append(seen[task] - rows["assigned"][task])
    return by_cli


def _lost_and_doubled(
    ids: list[int],
    rows: dict[str, Any],
    first_seen: dict[int, float],
    doubled: set[int],
    sent: dict[str, list[str]],
) -> dict[str, Any]:
    """Tasks done, lost (never sent to the model), received but not done, doubled; the
    deliveries recorded delivered whose text the model never got."""
    false_delivered = [
        (d_id, agent) for d_id, agent, text in rows["delivered"]
        if not any(_line(text) in seen for seen in sent.get(agent, []))
    ]  # fmt: skip
    return {
        "tasks_done": sum(1 for t in ids if rows["status"].get(t) == "done"),
        "lost": [t for t in ids if t not in first_seen],
        "received_not_done": [
            t for t in ids if t in first_seen and rows["status"].get(t) != "done"
        ],
        "doubled": sorted(doubled & set(ids)),
        "false_delivered": false_delivered,
    }


CLAIMED = re.compile(r"timing: delivery (\d+) to \S+: claimed at ([\d.]+), delivering (\d+) ms")
SENT = re.compile(
    r"timing: delivery (\d+) to \S+: prompt built in (\d+) ms, sent in (\d+) ms \((\w+)\)"
)

WORKSPACE = re.compile(
    r"timing: T-(\d+) prompt to (\S+): workspace read in (\d+) ms(?: \(git\))?, recorded in "
    r"(\d+) ms"
)


def workspace_reads(root: Path) -> dict[tuple[int, str], tuple[float, float]]:
    """The last workspace read of each task's prompt to its agent (``--timings``): the
    read's seconds (its branch and head) and the turn's start record's."""
    found: dict[tuple[int, str], tuple[float, float]] = {}
    for node in NODES:
        path = root / f"{node}.log"
        for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
            if read := WORKSPACE.search(line):
                found[(int(read[1]), read[2])] = (int(read[3]) / 1000, int(read[4]) / 1000)
    return found


def node_attempts(root: Path) -> dict[int, list[dict[str, Any]]]:
    """Each delivery's attempts from the nodes' ``--timings`` lines, in order: when it was
    claimed, how long it waited in the node before its prompt was built, the prompt's build
    and its send (to the host's answer), and how the send went."""
    attempts: dict[int, list[dict[str, Any]]] = {}
    for node in NODES:
        path = root / f"{node}.log"
        for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
            if found := CLAIMED.search(line):
                attempts.setdefault(int(found[1]), []).append(
                    {"claimed": float(found[2]), "waited": int(found[3]) / 1000}
                )
            elif (found := SENT.search(line)) and attempts.get(int(found[1])):
                attempts[int(found[1])][-1].update(
                    built=int(found[2]) / 1000, sent=int(found[3]) / 1000, result=found[4]
                )
    return attempts


def step_figures(root: Path, home: Path, agents: list[Agent], rows: dict[str, Any]) -> dict:
    """Swarm's own part of each task prompt's hand-over (``--timings``), step by step: from
    the later of the assignment and the agent's last turn end to the claim that delivered it
    (the node's wake-up or poll, earlier refused tries), then in the node before its prompt
    was built, the prompt's build (workspace git calls included), the send until the host
    journaled the prompt; p50/p99 of each, and the steps of the 5 slowest."""
    attempts = node_attempts(root)
    reads = workspace_reads(root)
    steps: dict[str, list[float]] = {}
    slowest: list[tuple[float, dict[str, Any]]] = []
    for agent in agents:
        for at, text, ended, delivery in host_turns(home, agent.id):
            task = TASK.search(text)
            tries = attempts.get(delivery, [])
            if task is None or not tries or int(task[1]) not in rows["assigned"]:
                continue
            last = tries[-1]
            start = max(rows["assigned"][int(task[1])], ended)
            step = {
                "to_claim": last["claimed"] - start,
                "in_node": last["waited"],
                "prompt_built": last.get("built", 0.0),
                "of_which_workspace": reads.get((int(task[1]), agent.id), (0.0, 0.0))[0],
                "of_which_record": reads.get((int(task[1]), agent.id), (0.0, 0.0))[1],
                "to_host_turn": at - last["claimed"] - last["waited"] - last.get("built", 0.0),
                "refused_tries": float(len(tries) - 1),
            }
            for name, value in step.items():
                steps.setdefault(name, []).append(value)
            slowest.append((at - start, {"task": int(task[1]), "agent": agent.id, **step}))
    slowest.sort(key=lambda item: -item[0])
    return {
        "steps": {name: percentiles(values) for name, values in steps.items()},
        "slowest": [{"own_s": round(own, 3), **{k: round(v, 3) if isinstance(v, float) else v
                                                for k, v in step.items()}}
                    for own, step in slowest[:5]],
    }  # fmt: skip


def claude_stop_hooks(agents: list[Agent]) -> dict[str, Any]:
    """How long Claude Code's ``Stop`` hook (swarm's, run at every turn's end: the turn ends
    after it) took, from each Claude Code agent's own transcript; how many ran into their
    timeout (``HOOK_TIMEOUT_S``: killed, their event may never have reached swarm)."""
    took = []
    for agent in agents:
        home = agent.work.parent / "home" / ".claude" / "projects"
        for transcript in home.glob("*/*.jsonl") if agent.cli == "claude-code" else ():
            for line in transcript.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                if entry.get("subtype") == "stop_hook_summary":
                    took += [h.get("durationMs", 0) / 1000 for h in entry.get("hookInfos", [])]
    timed_out = sum(1 for s in took if s >= HOOK_TIMEOUT_S)
    return {**percentiles(took), "timed_out": timed_out, "of": len(took)}


def prompts_by_cli(agents: list[Agent], answered: list[Any]) -> dict[str, Any]:
    """The permission prompts the person answered, by the agent's CLI; and twins: two of one
    agent and task with the same text opened within 2 s of each other (one dialog, two
    items; a protocol agent's next task asks the same again within 2 s)."""
    cli_of = {a.id: a.cli for a in agents}
    asked = sorted((n for n in answered if n.ref.startswith("R-")), key=lambda n: n.since)
    counts: dict[str, int] = {}
    for need in asked:
        cli = cli_of.get(need.agent or "", "?")
        counts[cli] = counts.get(cli, 0) + 1
    twins = [
        f"{a.ref}+{b.ref} ({a.agent})"
        for agent in {n.agent for n in asked}
        for a, b in itertools.pairwise([n for n in asked if n.agent == agent])
        if a.text == b.text and a.task == b.task and b.since - a.since < 2.0
    ]
    return {"by_cli": counts, "twins": twins}


def _line(text: str) -> str:
    """What of a delivered text must show in the prompt the model got: its longest line's
    start, its blanks as the CLI may have folded them."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(max(lines, key=len)[:40].split()) if lines else ""


def quiet_turn_end(agents: list[Agent], rows: dict[str, Any]) -> Any:
    """``task -> when its silent turn ended``: the time of the last request its agent's
    model got with the task's prompt (its details say ``QUIET``; the model answers at once),
    None when it got none."""
    by_id = {a.id: a for a in agents}

    def ended(task: int) -> float | None:
        agent = by_id.get(rows["assignee"].get(task) or "")
        if agent is None:
            return None
        asked = [float(r["at"]) for r in model_record(agent)
                 if day_defaults.QUIET in str(r.get("prompt") or "")
                 and f"T-{task}" in str(r.get("prompt") or "")]  # fmt: skip
        return max(asked) if asked else None

    return ended


def done_count(url: str, ids: list[int]) -> int:
    """How many of ``ids`` are done."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM tasks WHERE status = 'done' AND id = ANY(%s)",
                           (ids,)).fetchone()  # fmt: skip
    return int(row[0]) if row else 0


def transactions(url: str) -> int:
    """Transactions committed in the day's database so far (``pg_stat_database``)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def store_rows(url: str) -> dict[str, Any]:
    """Each task's first assignment time, its assignee and status; deliveries recorded
    delivered, with their text."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        assigned = conn.execute(
            "SELECT task_id, min(ts) AS at FROM events WHERE kind = 'task.assigned' "
            "GROUP BY task_id"
        ).fetchall()
        tasks = conn.execute("SELECT id, status, assignee FROM tasks").fetchall()
        delivered = conn.execute(
            "SELECT d.id, d.agent_id, m.text FROM deliveries d JOIN messages m "
            "ON m.id = d.message_id WHERE d.state = 'delivered'"
        ).fetchall()
    return {
        "assigned": {r["task_id"]: r["at"] for r in assigned},
        "status": {r["id"]: r["status"] for r in tasks},
        "assignee": {r["id"]: r["assignee"] for r in tasks},
        "delivered": [(r["id"], r["agent_id"], r["text"]) for r in delivered],
    }


def keep_store(url: str, folder: Path) -> None:
    """The day's permission prompts, deliveries and events, as JSON lines into ``folder``
    (``--keep``: the database goes with the run's PostgreSQL cluster)."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        for table in ("agent_prompts", "deliveries", "events"):
            rows = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            lines = [json.dumps(row, default=str) for row in rows]
            (folder / f"{table}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


async def broadcast(
    service: SwarmService, agents: list[Agent], k: int
) -> tuple[float, float | None]:
    """Broadcast one message; seconds until every agent's model got it (inf: not in 120 s),
    and until every protocol host handed it to its CLI (None: tmux agents)."""
    marker = f"broadcast-{k}-{uuid.uuid4().hex[:8]}"
    began = time.time()
    await service.messages.broadcast(f"{marker}: {GUIDELINES}", "person")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen = [min((at for at, text in user_texts(a) if marker in text), default=None)
                for a in agents]  # fmt: skip
        if all(at is not None for at in seen):
            return max(at for at in seen if at is not None) - began, _handed(
                service.settings.home, agents, marker, began
            )
        await asyncio.sleep(0.2)
    return float("inf"), None


def _handed(home: Path, agents: list[Agent], marker: str, began: float) -> float | None:
    """Seconds from ``began`` until the last host handed its CLI the prompt with ``marker``
    (None: no host journaled it: tmux agents)."""
    handed = [min((at for at, text, _ in host_prompts(home, a.id) if marker in text),
                  default=None)
              for a in agents]  # fmt: skip
    if any(at is None for at in handed):
        return None
    return max(at for at in handed if at is not None) - began


async def the_day(
    service: SwarmService, agents: list[Agent], args: argparse.Namespace, day: Day
) -> dict:
    """The tasks, the broadcasts, the person answering swarm's inbox; until all are done."""
    stop_event = asyncio.Event()
    person = Person(service)
    answering = asyncio.create_task(person.run(stop_event))
    idle = [await broadcast(service, agents, 1000)]
    specs = [dataclasses.replace(spec, details=f"{spec.details}: {ASK}")
             if n % ASK_EVERY == ASK_EVERY - 1 else spec
             for n, spec in enumerate(day_specs(args.tasks))]  # fmt: skip
    quiet = {n for n in range(len(specs)) if args.defaults and n % day_defaults.QUIET_EVERY == 1}
    specs = [dataclasses.replace(spec, details=f"{spec.details}: {day_defaults.QUIET}")
             if n in quiet else spec for n, spec in enumerate(specs)]  # fmt: skip
    began = time.monotonic()
    ids = await service.tasks.create_many(specs, "person")
    if args.usage:  # the day's tasks in one campaign, as the person makes one
        refs = [f"T-{i}" for i in ids]
        await asyncio.to_thread(swarm_cli, day, "campaign", "create", "usage day", *refs)
    during: list[tuple[float, float | None]] = []
    try:
        deadline = time.monotonic() + args.tasks * 10 + 300
        last, moved = -1, time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - moved < STUCK_S:
            done = done_count(service.settings.database_url or "", ids)
            if done != last:
                last, moved = done, time.monotonic()
            if len(during) < args.broadcasts and done >= (len(during) + 1) * args.tasks / (
                args.broadcasts + 1
            ):
                during.append(await broadcast(service, agents, len(during)))
                moved = time.monotonic()  # its wait for every agent's turn end is no stall
            if done == len(ids):
                break
            if answering.done():
                answering.result()
            await asyncio.sleep(1.0)
    finally:
        stop_event.set()
        await answering
    wall = time.monotonic() - began
    await asyncio.sleep(5.0)
    idle.append(await broadcast(service, agents, 1001))
    hosts = [h for _, h in [idle[0], *during, *idle[1:]] if h is not None]
    return {"ids": ids, "quiet": [ids[n] for n in sorted(quiet)], "wall_s": wall,
            "broadcast_s": [m for m, _ in during],
            "idle_broadcast_s": [m for m, _ in idle], "broadcast_hosts_s": hosts,
            "person": person.waited, "person_failed": person.failed,
            "answered": person.answered}  # fmt: skip


async def run(args: argparse.Namespace, server: Cluster, root: Path) -> dict[str, Any]:
    """One day on a fresh database; the figures."""
    url = new_database(server, "dayreal")
    home = root / "home"
    home.mkdir()
    env = {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": url, "SWARM_WEB_PORT":
           str(free_port()), "SWARM_APPROVAL_WAIT": "600"}  # fmt: skip
    clis = DEFAULTS_CLIS if args.defaults else USAGE_CLIS if args.usage else CLIS
    agents = plan_agents(root, agent_count(args), clis)
    day = Day(root, url, [a.id for a in agents], env)
    if args.usage:
        day.env |= usage_folders(agents)
    if args.timings:
        day.node_args.append("--timings")
    try:
        if args.protocol:
            for agent in agents:
                protocol_command(agent)
        day.env["SWARM_CONFIG"] = str(write_agents(root / "agents.toml", agents, args.nice))
        if not args.protocol:  # a protocol agent gets swarm's MCP server with its session
            swarm_cli(day, "agents", "hooks", "install")
            swarm_cli(day, "agents", "mcp", "install")
        pg0 = sum(server_cpu(server).values())
        if args.protocol:
            start_hosts(day, agents)
        else:
            for agent in agents:
                start_cli(day, agent)
            write_agents(root / "agents.toml", agents, args.nice)
        start_swarm(day)
        await asyncio.sleep(
            15.0
        )  # every CLI's MCP servers connected (they start in the background)
        cpu0, host0, t0 = own_cpu(day), hosts_cpu(day), time.monotonic()
        await asyncio.sleep(args.idle)
        idle_s = time.monotonic() - t0
        idle_cpu = cpu_share(day, own_cpu(day) - cpu0, idle_s)
        idle_hosts = cpu_share(day, hosts_cpu(day) - host0, idle_s)
        rss = (swarm_rss_mb(day), hosts_rss_mb(day))
        cpu1, host1, each1 = own_cpu(day), hosts_cpu(day), cpu_each(day)
        waits1 = core_waits(day)
        commits1 = transactions(url)
        service = await SwarmService.open(Settings.from_env(day.env))
        try:
            ran = await the_day(service, agents, args, day)
        finally:
            await service.close()
        load_cpu = cpu_share(day, own_cpu(day) - cpu1, ran["wall_s"])
        load_hosts = cpu_share(day, hosts_cpu(day) - host1, ran["wall_s"])
        ran["cpu_s_each"] = {
            name: round(cpu_each(day)[name] - each1[name], 1) for name in each1
        } | {"hosts": round(hosts_cpu(day) - host1, 1)}
        ran["core_wait_s_each"] = {
            name: round(waited - waits1.get(name, 0.0), 1)
            for name, waited in core_waits(day).items()
        }
        ran["transactions"] = transactions(url) - commits1  # the day's own and swarm's
        rows = store_rows(url)
        checked = judge(agents, ran["ids"], rows, home)
        if args.usage:
            ran["usage"] = await usage.compare(lambda: stats_json(day), agents, ran["ids"])
        if args.timings:
            checked["timings"] = step_figures(root, home, agents, rows)
        if args.defaults:
            ran["defaults"] = day_defaults.figures(
                url, ran["ids"], ran["quiet"], quiet_turn_end(agents, rows), GRACE_S
            )
        if args.keep:
            keep_store(url, root)
            shutil.copy(server.folder / "log", root / "postgres.log")  # its deadlocks' detail
        pg_cpu = sum(server_cpu(server).values()) - pg0
        cpu = (idle_cpu, load_cpu, idle_hosts, load_hosts)
        return summary(agents, args, ran, checked, cpu, rss, pg_cpu)
    finally:
        for proc in day.procs.values():
            proc.terminate()
        for proc in day.procs.values():
            proc.wait(30)
        for agent_id in day.agents:  # each host ends its CLI
            await hosts.stop(home, agent_id)
        for agent in agents:
            if agent.live is not None:
                stop(agent.live)
            elif agent.model is not None:
                agent.model.stop()


def agent_count(args: argparse.Namespace) -> int:
    """``--agents``, else ``--each`` of each CLI (``--usage``, ``--defaults``: one of each)."""
    if args.defaults:
        return args.agents or len(DEFAULTS_CLIS)
    if args.usage:
        return args.agents or len(USAGE_CLIS)
    return int(args.agents or args.each * len(CLIS))


def cpu_each(day: Day) -> dict[str, float]:
    """CPU seconds so far of each of swarm's processes (the coordinator, each node)."""
    return {name: _cpu(f"/proc/{p.pid}/stat") or 0.0 for name, p in day.procs.items()}


def core_waits(day: Day) -> dict[str, float]:
    """Seconds so far that each of swarm's processes (the coordinator, each node, the hosts
    together) was ready to run and waited for a core: the second field of each thread's
    ``/proc/PID/task/TID/schedstat`` (Linux; 0 where it cannot be read)."""
    found = {name: _run_queue_wait(p.pid) for name, p in day.procs.items()}
    found["hosts"] = sum(_run_queue_wait(pid) for pid in host_pids(day))
    return found


def _run_queue_wait(pid: int) -> float:
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(stat.read_text().split()[1])
    return total / 1e9


def own_cpu(day: Day) -> float:
    """CPU seconds so far of swarm's processes: the coordinator, the nodes, the hosts."""
    return swarm_cpu(day) + hosts_cpu(day)


def summary(agents: list[Agent], args: argparse.Namespace, ran: dict, checked: dict,
            cpu: tuple[float, float, float, float], rss: tuple[float, float],
            pg_cpu: float) -> dict[str, Any]:  # fmt: skip
    """The figures of one day."""
    counts = {cli: sum(1 for a in agents if a.cli == cli) for cli in USAGE_CLIS}
    counts = {cli: n for cli, n in counts.items() if n}
    route = "under protocol hosts" if args.protocol else "in tmux"
    total = sum(rss)
    return {
        "agents": f"{len(agents)} real CLIs {route} ({counts}), {len(NODES)} nodes",
        "tasks": args.tasks,
        "tasks_done": checked["tasks_done"],
        "wall_s": round(ran["wall_s"], 1),
        "lost": len(checked["lost"]),
        "received_not_done": checked["received_not_done"],
        "doubled": len(checked["doubled"]),
        "false_delivered": len(checked["false_delivered"]),
        "broadcast_to_all_idle": [round(x, 3) for x in ran["idle_broadcast_s"]],
        "broadcast_to_all_during_the_day": [round(x, 3) for x in ran["broadcast_s"]],
        "assignment_to_turn_start": {
            cli: percentiles(v) for cli, v in sorted(checked["turn_start_s"].items())
        },
        **(host_figures(ran, checked) if args.protocol else {}),
        "swarm_cpu_pct_core_per_agent": {
            "idle": cpu[0],
            "load": cpu[1],
            **({"of_hosts": {"idle": cpu[2], "load": cpu[3]}} if args.protocol else {}),
        },
        "swarm_rss_mb": {
            "total": round(total, 1),
            "per_agent": round(total / len(agents), 2),
            **({"of_hosts": round(rss[1], 1)} if args.protocol else {}),
        },
        "person_answered": {k: len(v) for k, v in ran["person"].items()},
        "person_waited": {k: percentiles(v) for k, v in ran["person"].items()},
        "person_could_not_answer": len(ran["person_failed"]),
        "prompts": prompts_by_cli(agents, ran["answered"]),
        "claude_stop_hook": claude_stop_hooks(agents),
        "postgres_cpu_s": round(pg_cpu, 1),
        "swarm_cpu_s_each": ran.get("cpu_s_each", {}),
        # the same processes' time ready to run, waiting for a core (their threads summed)
        "swarm_waited_for_a_core_s_each": ran.get("core_wait_s_each", {}),
        "transactions": ran.get("transactions"),
        **({"usage": ran["usage"]} if "usage" in ran else {}),
        **({"defaults": ran["defaults"]} if "defaults" in ran else {}),
        "examples": {
            **{k: checked[k][:5] for k in ("lost", "doubled", "false_delivered")},
            "person_could_not_answer": ran["person_failed"][:5],
        },
    }


def host_figures(ran: dict, checked: dict) -> dict[str, Any]:
    """The protocol route's figures from the hosts' journals: assignment to the host handing
    the prompt to its CLI; swarm's own part of it (from the later of the assignment and the
    end of the agent's previous turn: a task is given when the last one is reported, before
    its turn ends, and a host takes no prompt during a turn), also without each agent's first
    task; the turn's start (the model's first request with the prompt) from that same
    later time, which leaves out the rest of the agent's last turn (model time), and from
    the host's hand-over (the CLI's own part); a broadcast until every host handed it over
    (each broadcast of the day: idle, during, idle)."""
    return {
        "assignment_to_host_prompt": {
            cli: percentiles(v) for cli, v in sorted(checked["host_prompt_s"].items())
        },
        "swarm_own_to_host_prompt": {
            cli: percentiles(v) for cli, v in sorted(checked["own_s"].items())
        },
        "swarm_own_after_each_agents_first": {
            cli: percentiles(v) for cli, v in sorted(checked["own_later_s"].items())
        },
        "turn_start_without_the_last_turn": {
            cli: percentiles(v) for cli, v in sorted(checked["later_turn_start_s"].items())
        },
        "cli_own_host_prompt_to_turn_start": {
            cli: percentiles(v) for cli, v in sorted(checked["cli_own_s"].items())
        },
        "broadcast_to_all_hosts": [round(x, 3) for x in ran["broadcast_hosts_s"]],
        **({"swarm_own_steps": checked["timings"]} if "timings" in checked else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--each", type=int, default=2, help="agents of each CLI")
    parser.add_argument("--agents", type=int, default=0, help="agents in all (the CLIs in turn)")
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--broadcasts", type=int, default=2)
    parser.add_argument("--idle", type=float, default=15.0, help="seconds of idle measured")
    parser.add_argument(
        "--protocol", action="store_true",
        help="each agent a protocol agent (delivery = \"protocol\"): its CLI under a host "
        "process started by `swarm desktop up --protocol --node NODE` (ACP: Gemini CLI, Codex "
        "through codex-acp; Claude Code's stream-json), swarm's MCP server passed with the "
        "session; the hosts count in swarm's CPU and are ended with the day",
    )  # fmt: skip
    parser.add_argument(
        "--usage", action="store_true",
        help="issue 51's day: one agent of each of Claude Code, Codex, Gemini CLI and opencode "
        "in tmux (--agents 4), its tasks in one campaign; after it, swarm stats per task, agent "
        "and campaign beside each model server's count of the usage it reported",
    )  # fmt: skip
    parser.add_argument(
        "--defaults", action="store_true",
        help="issue 53's day: one agent of each of Claude Code, Codex, Gemini CLI (also in "
        "yolo mode) and opencode in tmux at their defaults (--agents 5); a task in "
        f"{day_defaults.QUIET_EVERY} ends its first turn without a report; after it, who "
        "reported each task and how long each silent turn waited for swarm's nudge",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the day's folder")
    parser.add_argument(
        "--nice", type=int, choices=range(20), metavar="0-19",
        help="--protocol: the agents file's [desktop] nice (how much lower the CLIs' CPU "
        "priority is than swarm's; default: swarm's own default, 10)",
    )  # fmt: skip
    parser.add_argument(
        "--timings", action="store_true",
        help="the nodes log each delivery's steps (swarm node --timings): swarm's own part of "
        "the protocol route's turn starts, step by step",
    )  # fmt: skip
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="swarm-day-real-"))
    signal.signal(signal.SIGTERM, _interrupted)  # the day's processes ended as on Ctrl-C
    try:
        with cluster(pg_programs()) as server:
            result = asyncio.run(run(args, server, root))
    finally:  # hosts run in their own sessions: Ctrl-C does not reach them
        count = agent_count(args)
        left = stop_hosts(root / "home", [f"Agent-{n + 1}" for n in range(count)])
        if left:
            print(f"ended the protocol hosts of {', '.join(left)}", file=sys.stderr)
    print(json.dumps(result, indent=2), flush=True)
    if args.keep:
        print(f"kept: {root}", file=sys.stderr)


def _interrupted(_signum: int, _frame: Any) -> None:
    """SIGTERM as Ctrl-C: asyncio's own handler cancels the day, whose cleanup runs."""
    os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    main()
