"""A real CLI started by ``swarm desktop up --headless`` (tmux) as Agent-1 of a
:class:`~tests.desktop.sandbox_rig.SandboxRig`, sandboxed or not, against localmodel; a small
task typed into it, and what it took of a person: the dialogs swarm's rules read on its pane
(each one a "Needs you" item once swarm's watch sees it) and the items opened in swarm's inbox.
Shared by the live sandbox modules and ``bench/needs_you_sandbox.py``."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.agent_state import AgentState
from core.agents._text_rules import TextMatch, classify, load_rule_sets
from core.sandbox import DOOR_SWARM
from tests.agents.live import LocalModel
from tests.desktop.sandbox_rig import SandboxRig, assign

SESSION = "swarm-Agent-1"
TASK_PROMPT = "do the small task T-1"
TASK_DONE = "small task reported"
TOOLS_PROMPT = "are your tools there"
RESUBMIT_S = 10.0
ALLOW = re.compile(r"\b(yes|allow|trust|proceed)", re.IGNORECASE)
# the small task: a file written in the worktree, what the shell could read, a report by the
# shell (``swarm task start``), then ``done`` by swarm's MCP tool
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
  {{ text = "Reporting.", tool = "report", input = {report} }},
  {{ text = "{done}" }},
]

[[turns]]
match = "{tools}"
steps = [{{ tool = "my_task", input = {{}} }}, {{ text = "tools are there" }}]
"""


def script(rig: SandboxRig, sandboxed: bool) -> str:
    """localmodel's script of the small task, with the ``swarm`` the agent's prompts name:
    its door's by path in a sandbox, else the rig's own (``bin/swarm``)."""
    swarm = DOOR_SWARM if sandboxed else str(outside_swarm(rig))
    probe = PROBE.format(home=rig.home, user=rig.user, swarm=swarm)
    note = "in-bwrap" if sandboxed else "outside"
    report = f'{{ action = "done", task = "T-1", note = "{note}" }}'
    return SCRIPT.format(
        prompt=TASK_PROMPT, probe=probe, report=report, done=TASK_DONE, tools=TOOLS_PROMPT
    )


def outside_swarm(rig: SandboxRig) -> Path:
    """``bin/swarm``: swarm's CLI for an agent outside the sandbox (made once)."""
    path = rig.bin / "swarm"
    if not path.exists():
        path.write_text(f'#!/bin/sh\nexec {sys.executable} -m bot.cli "$@"\n', encoding="utf-8")
        path.chmod(0o755)
    return path


def use_command(rig: SandboxRig, cli: str, command: str, mcp: bool = False) -> None:
    """Agent-1 runs ``command`` as ``cli``; ``mcp``: with swarm's MCP tools said in the
    agents file (else its CLI's default: Codex has them)."""
    text = rig.config.read_text().replace('command = "bash --norc --noprofile"',
                                          f'command = "{command}"')  # fmt: skip
    text = text.replace(
        'id = "Agent-1"', f'id = "Agent-1"\ncli = "{cli}"' + ("\nmcp = true" if mcp else "")
    )
    rig.config.write_text(text)


CODEX_KEY = "sk-codex-person-key-0123456789"  # the person's, outside only


def setup_codex(rig: SandboxRig, model: LocalModel) -> None:
    """Codex's ``~/.codex/config.toml`` (its model, Agent-1's worktree trusted) and the
    person's OpenAI variables naming localmodel: sandboxed, Codex reaches it through swarm's
    gateway (a provider swarm names on its command line, the key put on the wire outside)."""
    (rig.user / ".codex").mkdir(exist_ok=True)
    config = f"""model = "local-model"

[projects."{rig.ws["Agent-1"]}"]
trust_level = "trusted"
"""
    (rig.user / ".codex" / "config.toml").write_text(config, encoding="utf-8")
    rig.env.update(OPENAI_BASE_URL=f"{model.url}/v1", OPENAI_API_KEY=CODEX_KEY,
                   TERM="xterm-256color")  # fmt: skip


def setup_gemini(rig: SandboxRig, model: LocalModel) -> None:
    """Gemini CLI's ``~/.gemini/settings.json``: an API key on localmodel, folder trust off,
    no update check nor statistics (as tests/agents/launch.py sets it up)."""
    settings = {
        "security": {"folderTrust": {"enabled": False},
                     "auth": {"selectedType": "gemini-api-key"}},
        "general": {"disableAutoUpdate": True},
        "privacy": {"usageStatisticsEnabled": False},
    }  # fmt: skip
    (rig.user / ".gemini").mkdir(exist_ok=True)
    (rig.user / ".gemini" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    rig.env.update(GOOGLE_GEMINI_BASE_URL=model.url, GEMINI_API_KEY="local",
                   TERM="xterm-256color")  # fmt: skip


def setup_claude_code(rig: SandboxRig, model: LocalModel) -> None:
    """Claude Code's ``~/.claude.json`` (onboarding done, the key approved, Agent-1's
    worktree trusted, its project's MCP servers enabled) and settings that skip the
    bypass mode's warning (as tests/agents/launch.py sets it up); ``IS_SANDBOX=1`` for
    ``--dangerously-skip-permissions`` as root."""
    from tests.agents.launch import CLAUDE_KEY

    work = str(rig.ws["Agent-1"])
    state = {
        "hasCompletedOnboarding": True,
        "customApiKeyResponses": {"approved": [CLAUDE_KEY[-20:]], "rejected": []},
        "projects": {work: {"hasTrustDialogAccepted": True, "allowedTools": [],
                            "enableAllProjectMcpServers": True}},
    }  # fmt: skip
    (rig.user / ".claude").mkdir(exist_ok=True)
    (rig.user / ".claude.json").write_text(json.dumps(state), encoding="utf-8")
    quiet = {"skipDangerousModePermissionPrompt": True, "enableAllProjectMcpServers": True}
    (rig.user / ".claude" / "settings.json").write_text(json.dumps(quiet), encoding="utf-8")
    rig.env.update(ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY=CLAUDE_KEY,
                   DISABLE_AUTOUPDATER="1", IS_SANDBOX="1", TERM="xterm-256color")  # fmt: skip


def screen(rig: SandboxRig) -> str:
    """Agent-1's pane as swarm's watch reads it."""
    return rig.tmux("capture-pane", "-p", "-J", "-t", SESSION).stdout


def send(rig: SandboxRig, text: str) -> None:
    """``text`` typed into Agent-1's pane, then Enter half a second later."""
    rig.tmux("send-keys", "-t", SESSION, "-l", text)
    time.sleep(0.5)
    rig.tmux("send-keys", "-t", SESSION, "Enter")


def wait_mcp(
    rig: SandboxRig, cli: str, model: LocalModel, tally: Tally, timeout: float = 90
) -> None:
    """Until a turn's request offers swarm's MCP tools: a CLI starts its MCP servers in the
    background, and a prompt sent before swarm's answered gets none (asked again)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = len(_turns(model, TOOLS_PROMPT))
        send(rig, TOOLS_PROMPT)
        sent = time.monotonic()
        while len(asked := _turns(model, TOOLS_PROMPT)) == seen:
            assert time.monotonic() < deadline, f"no turn asked:\n{screen(rig)}"
            if time.monotonic() - sent > RESUBMIT_S:  # an Enter taken while it was busy
                rig.tmux("send-keys", "-t", SESSION, "Enter")  # (an empty input ignores it)
                sent = time.monotonic()
            time.sleep(0.2)
        if "no tool 'my_task'" not in str(asked[-1].get("outcome")):
            until(rig, cli, "tools are there", tally, 30)
            return
        assert time.monotonic() < deadline, f"swarm's MCP tools never offered:\n{screen(rig)}"
        time.sleep(2)


def _turns(model: LocalModel, prompt: str) -> list[dict[str, object]]:
    """The model's turn requests with ``prompt`` (not a CLI's side requests, which offer
    no tools: Codex's title)."""
    asked = [r for r in model.requests() if prompt in str(r.get("prompt"))]
    return [r for r in asked if "no tools offered" not in str(r.get("outcome"))]


@dataclass
class Tally:
    """What the small task took of a person: each dialog read on the pane (its rule), the
    inbox items swarm opened, and the seconds from the prompt to the task's end."""

    answer: bool = False  # answer each dialog (its allowing option), as a person would
    dialogs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def needs_you(self) -> int:
        return len(self.dialogs) + len(self.items)


def dialog(rig: SandboxRig, cli: str) -> TextMatch | None:
    """The dialog swarm's rules for ``cli`` read on the pane now, None if none."""
    rules = {rs.cli: rs for rs in load_rule_sets(None)[0]}[cli]
    found = classify(rules, screen(rig).split("\n"), time.time())
    return found if found is not None and found.state is AgentState.WAITING else None


def inbox(rig: SandboxRig) -> list[str]:
    """The refs of the items open in swarm's inbox ("Needs you")."""
    items = json.loads(rig.swarm("inbox", "--json").stdout or "[]")
    return [str(item.get("ref")) for item in items]


def until(rig: SandboxRig, cli: str, words: str, tally: Tally, timeout: float) -> None:
    """Until the pane shows ``words``, each dialog met counted in ``tally``; with
    ``tally.answer`` answered as a person would (its allowing option), else AssertionError
    (the agent waits for a person)."""
    deadline = time.monotonic() + timeout
    while words not in screen(rig):
        assert time.monotonic() < deadline, f"{words!r} never showed:\n{screen(rig)}"
        asked = dialog(rig, cli)
        if asked is not None:
            tally.dialogs.append(asked.rule)
            assert tally.answer, f"a dialog waits for a person ({asked.rule}):\n{screen(rig)}"
            allowing = [o for o in asked.options if ALLOW.search(o.label)] or list(asked.options)
            keys = [allowing[0].key] if allowing else []
            rig.tmux("send-keys", "-t", SESSION, *keys, *(asked.submit or ("Enter",)))
            time.sleep(1.5)  # the dialog closes before the next look
        time.sleep(0.2)


def start(rig: SandboxRig, cli: str, ready: str, tally: Tally, timeout: float = 90) -> None:
    """``swarm desktop up --headless`` of Agent-1, until its pane shows ``ready``."""
    up = rig.swarm("desktop", "up", "--headless", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    until(rig, cli, ready, tally, timeout)


def do_task(rig: SandboxRig, cli: str, tally: Tally, timeout: float = 120) -> None:
    """T-1 assigned to Agent-1, the small task typed in, until the pane says it is done;
    the open inbox items then in ``tally``."""
    asyncio.run(assign(rig, "small task"))
    started = time.monotonic()
    send(rig, TASK_PROMPT)
    until(rig, cli, TASK_DONE, tally, timeout)
    tally.seconds = time.monotonic() - started
    tally.items = inbox(rig)


def stop(rig: SandboxRig, model: LocalModel) -> None:
    """``swarm desktop down``, the rig's tmux server and localmodel ended."""
    rig.swarm("desktop", "down", "--headless")
    rig.tmux("kill-server")
    model.stop()


def booked_from_wire(rig: SandboxRig) -> dict[str, int]:
    """Agent-1's usage records booked as ``swarm run``'s watch books them (issue 78): its
    ledger's input, output and cache read tokens."""
    return asyncio.run(_booked(rig))


async def _booked(rig: SandboxRig) -> dict[str, int]:
    from core.service.swarm import SwarmService
    from core.settings import Settings
    from core.watch.wire_usage import WireUsage

    settings = Settings.from_env({"SWARM_HOME": str(rig.home), "SWARM_CONFIG": str(rig.config)})
    service = await SwarmService.open(settings)
    try:
        await WireUsage(service.store).tick()
        spent = {s.key: s for s in (await service.costs.spend())["agent"]}["Agent-1"]
    finally:
        await service.close()
    return {"input": spent.input, "output": spent.output, "cache_read": spent.cache_read}


def environ_inside(rig: SandboxRig, program: str) -> dict[str, str]:
    """The environment of the deepest process under Agent-1's pane that runs ``program``
    (its CLI inside the sandbox: by its name or its script's), read from ``/proc`` outside."""
    pane = int(rig.tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").stdout)
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    depth, level = {pane: 0}, {pane}
    for at in range(1, 20):  # the pane's shell, bwrap, the relay become the CLI: a few levels
        level = {pid for pid, parent in parents.items() if parent in level}
        depth.update((pid, at) for pid in level)
    for pid in sorted(depth, key=depth.__getitem__, reverse=True):  # bwrap's names it too
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if any(Path(word.decode(errors="replace")).name == program for word in argv[:2]):
            pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0"))
            return {key: value for key, _, value in pairs if key}
    raise AssertionError(f"no {program} under the pane: {sorted(depth)}")


def through_the_gateway(rig: SandboxRig, model: LocalModel, path: str) -> list[dict[str, Any]]:
    """Every model request (at ``path``) came through Agent-1's gateway with the person's
    key as a bearer token put there outside, each answer's usage asked and read: the
    gateway's records equal localmodel's counts, and so does what the ledger books of them
    (as ``swarm run``'s watch books them). The requests, for more checks."""
    asked = [r for r in model.requests() if r["path"] == path]
    assert asked and all("authorization" in {h.lower() for h in r["headers"]} for r in asked)
    theirs = [r["usage"] for r in asked]
    assert None not in theirs, [r["body"].get("stream_options") for r in asked]
    records = rig.home / "gateway" / "Agent-1" / "records" / "usage.jsonl"
    booked = [json.loads(line)["usage"] for line in records.read_text().splitlines()]
    assert len(booked) == len(asked) and None not in booked, (booked, theirs)
    assert sum(b["output"] for b in booked) == sum(u["output"] for u in theirs)
    assert booked_from_wire(rig) == {
        kind: sum(u[kind] or 0 for u in theirs) for kind in ("input", "output", "cache_read")
    }
    return asked


def refused_hosts(rig: SandboxRig) -> set[str]:
    """The hosts Agent-1's egress proxy refused (its records, outside)."""
    records = rig.home / "gateway" / "Agent-1" / "records" / "refusals.jsonl"
    if not records.exists():
        return set()
    return {json.loads(line)["host"] for line in records.read_text().splitlines()}
