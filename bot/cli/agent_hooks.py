"""``swarm agents hooks install [--agent A] [--remove]`` and ``swarm agents explain A``: the
agent CLIs' hooks in each agent's workspace, and an agent's state in plain words."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.output import emit_json
from core.errors import NotFound
from core.settings import CONFIG

if TYPE_CHECKING:
    from automation.launch import Reach
    from core.clis.hook_files import Change
    from core.service.swarm import SwarmService
    from core.settings import Settings


def register_agents(asub: Any) -> None:
    """Add ``agents hooks install`` and ``agents explain``."""
    p = asub.add_parser("hooks", help="the agent CLIs' hooks that report each agent's state")
    hsub = p.add_subparsers(dest="hooks_command", metavar="ACTION", required=True)
    q = hsub.add_parser(
        "install",
        help="write swarm's hooks into each agent's workspace (the files its CLI reads: "
        "Claude Code's .claude/settings.local.json, Codex CLI's .codex/hooks.json), keeping "
        "the user's own",
    )
    q.add_argument("--agent", help="only this agent (default: every agent with a workspace)")
    q.add_argument("--remove", action="store_true", help="take swarm's hooks out again (only ours)")
    q.set_defaults(handler=cmd_hooks_install)
    q = asub.add_parser(
        "explain", help="an agent's state, since when, and each signal's latest evidence"
    )
    q.add_argument("agent")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_explain)


async def cmd_hooks_install(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents hooks install [--agent A] [--remove]``."""
    from core.agents import workspace_files

    home = service.settings.home
    notes: dict[str, None] = {}  # said once each, in order
    refused: set[str] = set()  # editors whose sandbox was refused: they run unsandboxed
    for name, folders in workspaces_of(service, args):
        cli = service.agents[name].cli
        if service.agents[name].sandbox_refused and not args.remove:
            refused.add(name)
        for folder in folders:
            if args.remove:
                changes = workspace_files.remove_hooks(home, folder)
            else:
                fenced = service.agents[name].sandbox is not None
                changes = install(service.settings, args, name, folder, cli, fenced)
                notes |= {f.note: None for f in workspace_files.hook_files(cli) if f.note}
            for change in changes:
                print(f"{name}: {change.path}: {said(change)}")
    for note in notes:
        print(note)
    from automation.launch.sandbox import EDITOR_REFUSED

    for name in sorted(refused):
        print(f"{name}: {EDITOR_REFUSED}: its hooks run swarm's own, as it runs unsandboxed")


def install(
    settings: Settings,
    args: argparse.Namespace,
    agent: str,
    folder: Path,
    cli: str | None,
    sandboxed: bool = False,
) -> list[Change]:
    """swarm's hooks for ``agent`` in its workspace ``folder``
    (``automation.launch._hooks.install``)."""
    from automation.launch import hooks

    return hooks.install(reach(settings, args), agent, folder, cli, sandboxed)


def reach(settings: Settings, args: argparse.Namespace) -> Reach:
    """How this command's agents' hooks and MCP server reach swarm (its home and agents
    file when not the defaults)."""
    from automation.launch import Reach

    pairs = tuple(env_pairs(settings, args))
    return Reach(settings.home, pairs, settings.agent_swarm, settings.approval_wait_s)


def workspaces_of(service: SwarmService, args: argparse.Namespace) -> list[tuple[str, list[Path]]]:
    """The agents an install or remove acts on (``--agent``, else all) with their workspace
    folders; an agent without one is said ("nothing to do"), or NotFound when named."""
    names = [service.ctx(args.actor).agent(args.agent).id] if args.agent else list(service.agents)
    found = []
    for name in names:
        folders = _folders(service, name)
        if folders:
            found.append((name, folders))
        elif args.agent:
            raise NotFound(
                f"{name} has no workspace folder: swarm workspaces init REPO --agents "
                f'{name} (or workspace = "/path" in the agents file)'
            )
        else:
            print(f"{name}: no workspace: nothing to do")
    return found


def _folders(service: SwarmService, name: str) -> list[Path]:
    """Every workspace of the agent: its own folder, and each worktree swarm made for it."""
    from core.workspaces import manifest

    agent = service.agents[name]
    found = [Path(agent.workspace)] if agent.workspace else []
    found += [
        Path(r.workspaces[name].path)
        for r in manifest.load_all(service.settings.home)
        if name in r.workspaces
    ]
    return [f for f in found if f.is_dir()]


def said(change: Change) -> str:
    """What happened to one file, in words."""
    from automation.launch import SAID

    return SAID[change.what]


def env_pairs(settings: Settings, args: argparse.Namespace) -> list[str]:
    """``SWARM_HOME=...`` / ``SWARM_CONFIG=...`` when not the defaults (never a database URL:
    it may hold a password; an agent on PostgreSQL needs SWARM_DATABASE_URL in its env)."""
    pairs = []
    if settings.custom_home is not None:
        pairs.append(f"SWARM_HOME={settings.custom_home}")
    if args.config or CONFIG.read(args.configuration.env):
        pairs.append(f"SWARM_CONFIG={settings.config_path.absolute()}")
    return pairs


async def cmd_explain(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents explain A``."""
    shown = await service.explain_agent(args.agent)
    fenced = await asyncio.to_thread(sandbox_lines, service, shown["agent"])
    if fenced is not None:
        shown["sandbox"] = fenced
    editor = await asyncio.to_thread(editor_line, service, shown["agent"])
    if editor is not None:
        shown["sandbox_editor"] = editor
    emit_json(shown) if args.json else print(explain_text(shown))


def sandbox_lines(service: SwarmService, agent_id: str) -> list[str] | None:
    """What ``agent_id``'s sandbox lets it see and write (None: it runs unsandboxed)."""
    from automation.launch.sandbox import agent_home, describe, refused_hosts
    from core.clis import by_name
    from core.workspaces import find

    agent = service.agents.get(agent_id)
    if agent is None or agent.sandbox is None:
        return None
    space = find(service.settings.home, service.agents, agent_id)
    cli = by_name(agent.cli)
    copies = agent_home(service.settings.home, agent.id) if cli and cli.state else None
    lines = describe(agent.sandbox, space.path if space else None, cli, copies)
    refused = refused_hosts(service.settings.home, agent.id)
    return lines + [f"its proxy refused {line}" for line in refused]


def editor_line(service: SwarmService, agent_id: str) -> str | None:
    """``agent_id``'s line when it is an editor agent a sandbox concerns
    (``automation.launch.sandbox.editor_lines``), else None."""
    from automation.launch import load_desktop
    from automation.launch.sandbox import editor_lines
    from core.errors import ConfigError

    agents = list(service.agents.values())
    try:
        desktop = load_desktop(service.settings.config_path, [a.id for a in agents])
    except ConfigError:
        return None
    found = editor_lines(agents, desktop).get(agent_id)
    return found[1].removeprefix(f"{agent_id}: ") if found else None


def explain_text(shown: dict[str, Any]) -> str:
    """``Agent-3: idle since 10:42:07 (3 m 10 s), decided by hook``, then one line per signal:
    ``hook: Stop at 10:42:07 → idle``."""
    from core.agents import clock_time, duration, until_text

    now = shown["checked_at"]
    head = f"{shown['agent']}: {shown['state']}"
    if shown["since"] is not None:
        head += f" since {clock_time(shown['since'])} ({duration(now - shown['since'])})"
    lines = [head]
    if shown["evidence"]:
        who = f"{shown['signal']} signal" if shown["signal"] else "rule"
        lines.append(f"  decided by the {who}: {shown['evidence']}")
    if shown["waiting_for"]:
        lines.append(f"  waiting for a person: {shown['waiting_for']}")
    if shown.get("sandbox_editor"):
        lines.append(f"  {shown['sandbox_editor']}")
    elif shown.get("sandbox"):
        lines += ["  sandboxed (bubblewrap):", *(f"    {line}" for line in shown["sandbox"])]
    for obs in shown["signals"]:
        words = obs["evidence"]
        if not words.startswith(f"{obs['signal']}:"):
            words = f"{obs['signal']}: {words}"
        seen = f" at {clock_time(obs['seen_at'])}"
        line = f"  {words}{'' if words.endswith(seen) else seen} → {obs['state']}"  # said once
        if obs["until"]:
            line += f" until {until_text(obs['until'], now)}"
        if obs["active_at"] and obs["state"] != "working":
            line += f" (last seen working {duration(now - obs['active_at'])} ago)"
        lines.append(line)
    if not shown["signals"]:
        lines.append("  no signal has seen it yet (hooks: swarm agents hooks install)")
    for alert in shown.get("alerts", []):
        lines.append(f"  alert since {clock_time(alert['opened_at'])}: {alert['text']}")
    if shown.get("usage"):
        lines.append(f"  its turns' usage: {shown['usage']}")
    lines.append(f"  (as of {clock_time(now)})")
    return "\n".join(lines)
