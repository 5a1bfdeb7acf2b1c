"""``swarm doctor``: every problem of this machine's set-up, listed at once (exit 1 if any)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.args import seconds_arg
from bot.cli.findings import OK, PROBLEM, SKIPPED, WARNING, Finding
from bot.cli.output import emit_json
from bot.cli.style import painter
from core.errors import SwarmError

if TYPE_CHECKING:
    from bot.config import Config
    from core.models import Agent
    from core.service.swarm import SwarmService

OPEN_BITS = 0o077  # group and others: any of their permissions
READ_BITS = 0o044  # group and others may read
PERMISSIONS = "permissions"


def register(sub: Any) -> None:
    """Add ``doctor``."""
    p = sub.add_parser(
        "doctor",
        help="check display, clipboard, database, coordinator, "
        "Discord, AI and GitHub settings; exit 1 on any problem",
    )
    p.add_argument(
        "--timeout",
        type=seconds_arg(),
        default=5.0,
        metavar="S",
        help="seconds to wait for the AI endpoint and Discord (default 5)",
    )
    p.add_argument(
        "--no-discord",
        action="store_true",
        help="the coordinator runs without Discord (swarm run --no-discord): not checked",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_doctor, no_service=True)


async def cmd_doctor(_: SwarmService | None, args: argparse.Namespace) -> int:
    """``swarm doctor``: print every finding; 1 when one is a problem."""
    findings = await diagnose(args.configuration, args.timeout, discord=not args.no_discord)
    problems = sum(f.status == PROBLEM for f in findings)
    if args.json:
        emit_json([asdict(f) for f in findings])
        return 1 if problems else 0
    width = max(len(f.check) for f in findings)
    paint = painter()
    for finding in findings:
        print(
            f"{paint.word(finding.status)}{' ' * (8 - len(finding.status))} "
            f"{finding.check.ljust(width)}  {finding.detail}"
        )
    warnings = sum(f.status == WARNING for f in findings)
    print(
        (f"\n{problems} problem(s)" if problems else "\nno problems found")
        + (f", {warnings} warning(s)" if warnings else "")
    )
    return 1 if problems else 0


async def diagnose(config: Config, timeout_s: float, discord: bool = True) -> list[Finding]:
    """Run every check; a failing check never stops the others. ``discord``: False when
    the coordinator runs without Discord (not checked)."""
    checks: list[Callable[[Config], list[Finding]]] = [
        _settings,
        _prices,
        _private,
        _desktop,
        _desktop_windows,
        _panes,
        _sandboxes,
        _clipboard,
        _database,
        _coordinator,
        _discord if discord else _no_discord,
    ]
    findings = [f for check in checks for f in await asyncio.to_thread(_safely, check, config)]
    findings += await _hosts(config)
    local = await asyncio.to_thread(_local_discord, config)
    if local is None and any(f.check == "discord" and f.status == OK for f in findings):
        findings += await _discord_reach(config, timeout_s)
    findings += await _slack(config, timeout_s)
    findings += await _telegram(config, timeout_s)
    return findings + await _ai(config, timeout_s) + await _github(config, timeout_s)


async def _hosts(config: Config) -> list[Finding]:
    """Each protocol agent's host: running, answering, its agent running, its session
    open; one that is not names the tasks stranded on it."""
    from core.agents_file import load_agents

    try:
        hosted = [a for a in load_agents(config.core.config_path) if a.delivery == "protocol"]
    except SwarmError as exc:
        return [Finding("hosts", PROBLEM, str(exc))]
    if not hosted:
        return []
    held = await _held(config)
    return [await _host(config.core.home, agent.id, held.get(agent.id, [])) for agent in hosted]


async def _host(home: Path, agent: str, held: list[str]) -> Finding:
    from core.hosts import client, running

    stranded = f"; it holds {', '.join(held)}" if held else ""
    pid = running.host_pid(home, agent)
    if pid is None:
        why = f"{agent}: no protocol host runs (swarm desktop up --protocol starts it){stranded}"
        return Finding("hosts", PROBLEM, why)
    try:
        hello = await client.hello(home, agent, wait_s=HOST_HELLO_S)
    except client.HostUnreachable as exc:
        return Finding("hosts", PROBLEM, f"{agent}: {exc}{stranded}")
    if hello.exit_code is not None:
        why = f"{agent}: its agent exited ({hello.exit_code}) under host pid {pid}{stranded}"
        return Finding("hosts", PROBLEM, why)
    if not hello.session:
        why = f"{agent}: host pid {pid} runs, its agent's session is not open{stranded}"
        return Finding("hosts", PROBLEM, why)
    busy = f", in a turn (delivery {hello.delivery})" if hello.busy else ""
    detail = f"{agent}: host pid {pid}, agent pid {hello.agent_pid}, session open{busy}"
    return Finding("hosts", OK, detail)


async def _held(config: Config) -> dict[str, list[str]]:
    """The tasks each agent holds, as the store says (empty when it cannot be read)."""
    from core.service.swarm import SwarmService

    if not (config.core.database_url or config.core.db_path.exists()):
        return {}
    try:
        service = await SwarmService.open(config.core)
    except SwarmError:
        return {}
    try:
        return {row["id"]: list(row["tasks"]) for row in await service.roster.rows()}
    finally:
        await service.close()


HOST_HELLO_S = 3.0  # a protocol host's hello, at most


def _safely(check: Callable[[Config], list[Finding]], config: Config) -> list[Finding]:
    try:
        return check(config)
    except SwarmError as exc:
        return [Finding(check.__name__.strip("_"), PROBLEM, str(exc))]


def _settings(config: Config) -> list[Finding]:
    found = []
    for name in ("core", "watch", "gui"):
        try:
            getattr(config, name)
        except SwarmError as exc:
            found.append(Finding(f"settings ({name})", PROBLEM, str(exc)))
    return found or [Finding("settings", OK, "every value parses")]


def _prices(config: Config) -> list[Finding]:
    from core.costs import prices

    try:
        user_file = config.core.prices_file
    except SwarmError:
        return []  # said by _settings
    found = prices.check(user_file)  # a bad file: a PROBLEM naming it (_safely)
    where = f"{user_file} over swarm's own" if user_file else "swarm's own (no SWARM_PRICES)"
    return [Finding("prices", OK, f"{len(found)} models priced: {where}")]


def _private(config: Config) -> list[Finding]:
    """Files others can read: a settings file holding a secret, the home and its database."""
    from bot.config_file import user_config_path

    found = [_open_secret(path) for path in (user_config_path(), Path(".env").resolve())]
    try:
        core = config.core
    except SwarmError:  # the settings check reports it
        core = None
    if core is not None:
        found += [
            _open_state(path)
            for path in (core.home, core.db_path)
            if not core.database_url or path == core.home
        ]
    warned = [f for f in found if f is not None]
    return warned or [
        Finding(PERMISSIONS, OK, "the home and settings files with secrets are private")
    ]


def _open_secret(path: Path) -> Finding | None:
    """A warning when ``path`` holds a secret and group or others may read it."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if not mode & READ_BITS:
        return None
    names = _secrets_in(path)
    if not names:
        return None
    return Finding(
        PERMISSIONS,
        WARNING,
        f"{path} holds {', '.join(names)} and is readable by others (mode "
        f"{mode:03o}): chmod 600 {path}",
    )


def _secrets_in(path: Path) -> list[str]:
    """The secrets a settings file sets, by the names it uses (never their values): the
    token, the API key, a database URL with a password."""
    from urllib.parse import urlsplit

    from bot.config_file import read_user_config
    from bot.settings_index import secret_names

    dotenv = path.name == ".env"
    if dotenv:
        from dotenv import dotenv_values

        values = {k: v or "" for k, v in dotenv_values(path).items()}
    else:
        values = read_user_config(path)
    names = [name for name in sorted(secret_names()) if values.get(name)]
    try:
        if urlsplit(values.get("SWARM_DATABASE_URL", "")).password:
            names.append("SWARM_DATABASE_URL")
    except ValueError:  # not a URL: nothing to hide in it
        pass
    return names if dotenv else [n.removeprefix("SWARM_").lower() for n in names]


def _open_state(path: Path) -> Finding | None:
    """A warning when the home folder or the database can be read by others (made by an
    older swarm, or by hand: swarm makes them 0700 and 0600)."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if not mode & OPEN_BITS:
        return None
    return Finding(
        PERMISSIONS,
        WARNING,
        f"{path} is open to others (mode {mode:03o}): chmod "
        f"{'700' if path.is_dir() else '600'} {path}",
    )


def _desktop(config: Config) -> list[Finding]:
    from automation.desktop.calibrate import check_points
    from automation.desktop.screen import NoDisplay, detect_screens, display_available
    from core.agents_file import load_agents

    agents = load_agents(config.core.config_path)
    on_screen = [a.id for a in agents if _on_screen(a)]
    available, why = display_available(config.env)
    if not available and not on_screen:
        return [Finding("display", SKIPPED, f"{why}; not needed: {_routes(agents)}")]
    if not available:
        shown = ", ".join(on_screen)
        return [
            Finding(
                "display",
                PROBLEM,
                f"{why}: {shown} (desktop window, no tmux pane) get inbox files instead",
            )
        ]
    screens = detect_screens()
    found = [Finding("display", OK, f"{why}, {len(screens)} screen(s)")]
    try:
        checks = check_points(agents)
    except NoDisplay as exc:
        return [*found, Finding("input points", PROBLEM, f"not checked: {exc}")]
    for check in checks:
        status = OK if check.ok else PROBLEM
        found += [Finding("input points", status, f"{check.agent}: {d}") for d in check.details()]
    return found


def _panes(config: Config) -> list[Finding]:
    """Each agent's tmux pane read on its own server (its ``tmux_socket``, else the default
    one); a gone one that ``desktop up`` started is a warning (``up`` starts it again), and
    so is a session an older swarm left on the default server (``up`` moves it)."""
    from automation.launch import TerminalSessions
    from core.agents_file import load_agents
    from core.tmux import PaneRef, capture_all

    agents = [a for a in load_agents(config.core.config_path) if a.tmux]
    sessions = TerminalSessions(config.core.home, config.core.config_path, config.env)
    if not agents or not sessions.tmux_ok():
        return []
    started, found = sessions.started(), []
    texts = capture_all([PaneRef(str(a.tmux), a.tmux_socket) for a in agents])
    for agent, text in zip(agents, texts, strict=True):
        server = f"tmux server {agent.tmux_socket}" if agent.tmux_socket else "default server"
        if text.ok:
            found.append(Finding("tmux", OK, f"{agent.id}: pane {agent.tmux} on {server}"))
        elif agent.id in started:
            why = f"{agent.id}: {text.gone} on {server} (swarm desktop up starts it again)"
            found.append(Finding("tmux", WARNING, why))
        if (older := sessions.older(agent.id)) is not None:
            found.append(Finding("tmux", WARNING, f"{agent.id}: session {older.name} an older "
                                 "swarm started on your default tmux server: swarm desktop up "
                                 "moves it to this home's server, down ends it"))  # fmt: skip
    return found


def _sandboxes(config: Config) -> list[Finding]:
    """``sandbox = true`` agents: bwrap installed and able to make a sandbox here (user
    namespaces allowed), an editor agent's refused or defaulted sandbox said; nothing said
    when no agent is sandboxed."""
    from core.agents_file import load_agents

    agents = load_agents(config.core.config_path)
    editors = _sandboxed_editors(config, agents)
    refused = {agent for agent, (no, _) in editors.items() if no}
    said = [Finding("sandbox", PROBLEM if no else OK, line) for no, line in editors.values()]
    fenced = [a.id for a in agents if a.sandbox is not None and a.id not in refused]
    if not fenced:
        return said
    found = _bwrap(config, fenced) + _own_gits(config, [a for a in agents if a.id in fenced])
    if any(f.status != OK for f in found):
        return said + found  # no sandbox here: its limits are beside the point
    chosen = [a for a in agents if a.id in fenced]
    return said + found + _limits(chosen) + _networks(config.core.home, chosen)


def _own_gits(config: Config, fenced: list[Agent]) -> list[Finding]:
    """A sandboxed agent whose worktree's ``.git`` names a git folder not its own, or whose
    git folders hold a link where its start binds a guard: refused by ``desktop up`` (and the
    first by swarm's git: ``core.sandbox.own_git``), said here."""
    from automation.launch.sandbox import check_git_links
    from core.errors import SwarmError
    from core.sandbox import git_folders, object_stores
    from core.workspaces import ForeignGitFolder, find

    agents = {a.id: a for a in fenced}
    found: list[Finding] = []
    commons: set[Path] = set()
    for agent in fenced:
        try:
            space = find(config.core.home, agents, agent.id)
            if space is not None and space.path.is_dir():
                git_folders(space.path)
                check_git_links(space.path)
                found += _moves_no_branch(agent.id, space.path)
                common = object_stores.common_of(space.path)
                commons |= {common} if common is not None else set()
        except (ValueError, ForeignGitFolder) as exc:
            found.append(Finding("sandbox", PROBLEM, f"{agent.id}: {exc}"))
        except SwarmError:
            continue
    return found + [
        f for c in sorted(commons) for f in (*_refused_objects(c), *_shadowing_branches(c))
    ]


def _shadowing_branches(common: Path) -> list[Finding]:
    """A warning for each branch named as a remote or under one (``origin/main``), which
    the person's ``git merge origin/main`` takes before the remote's (``branch_records``)."""
    from core.sandbox import branch_records

    return [
        Finding("sandbox", WARNING, _shadow_line(common, name))
        for name in branch_records.shadowing(common)
    ]


def _shadow_line(common: Path, name: str) -> str:
    """The warning for ``name``, a branch an agent may have made: quoted where the line
    gives it as a command to type."""
    typed = shlex.quote(name)
    return (
        f"{common.parent}: branch {name} shadows the remote's {name}: git merge or rebase "
        f"{name} would take it; if it is no branch of yours, delete it (git branch -D {typed})"
    )


def _moves_no_branch(agent: str, folder: Path) -> list[Finding]:
    """A warning when the agent's sandbox would move no branch (``branch_records``): the
    branch its worktree's ``HEAD`` names was not given it by swarm."""
    from core.sandbox import branch_records

    record = branch_records.moves_none(folder)
    if record is None:
        return []
    why = (
        f"{agent}: its sandbox moves no branch (swarm recorded none for its worktree, or its "
        "HEAD names a branch checked out elsewhere): its commits are refused until a task's "
        "prompt moves it, or until you put its HEAD on its branch (git -C "
        f"{folder} switch BRANCH) and remove {record} if it is there"
    )
    return [Finding("sandbox", WARNING, why)]


def _refused_objects(common: Path) -> list[Finding]:
    """What swarm's folds of a repository's agent stores removed (an object not what its
    name says, a pack git would not index: ``core.sandbox.object_stores``), its newest; a
    fold that cannot run there (an agent's object is then read as it wrote it)."""
    from core.sandbox import object_stores

    stuck = object_stores.cannot_fold(common)
    cannot = [Finding("sandbox", PROBLEM, f"{common.parent}: {stuck}")] if stuck else []
    said = object_stores.refusals(common)
    if not said:
        return cannot
    where = common / object_stores.REFUSED
    return [
        *cannot,
        Finding(
            "sandbox",
            PROBLEM,
            f"{common.parent}: swarm removed {len(said)} thing(s) an agent wrote in its "
            f"git store (the newest: {said[-1]}); all in {where}: remove it once read",
        ),
    ]


def _networks(home: Path, fenced: list[Agent]) -> list[Finding]:
    """Each sandboxed agent's network in a line; one that cannot be had a problem, a model
    network whose gateway is not running (while its agent was started) a warning."""
    from automation.launch.sandbox import (
        gateway_running,
        network_check,
        network_line,
        network_mode,
    )
    from core.clis import by_name
    from core.errors import InvalidInput

    found = []
    for agent in fenced:
        assert agent.sandbox is not None
        cli = by_name(agent.cli)
        try:
            network_check(agent.id, agent.sandbox, cli)
        except InvalidInput as exc:
            found.append(Finding("sandbox", PROBLEM, str(exc)))
            continue
        line = network_line(agent.sandbox, cli)
        mode = network_mode(agent.sandbox, cli)
        down = mode == "model" and not gateway_running(home, agent.id)
        line += "; its gateway is not running (swarm desktop up starts it)" if down else ""
        shared = mode == "open" and not agent.sandbox.network  # the host's, by default only
        status = WARNING if down or shared else OK
        found.append(Finding("sandbox", status, f"{agent.id}: {line}"))
    return found


def _limits(fenced: list[Agent]) -> list[Finding]:
    """Whether the sandboxed agents' limits hold here (a warning where they cannot)."""
    from automation.launch.sandbox import limits

    found = []
    for agent in fenced:
        assert agent.sandbox is not None
        line = limits.said(agent.sandbox.limits)
        held = limits.backend() is not None
        found.append(Finding("sandbox", OK if held else WARNING, f"{agent.id}: {line}"))
    return found


def _sandboxed_editors(config: Config, agents: list[Agent]) -> dict[str, tuple[bool, str]]:
    """``automation.launch.sandbox.editor_lines`` of the agents file (none when its
    ``[desktop]`` section is bad: ``swarm desktop up`` says why)."""
    from automation.launch import load_desktop
    from automation.launch.sandbox import editor_lines
    from core.errors import ConfigError

    path, user = config.core.config_path, config.user_tables.get("desktop")
    try:
        desktop = load_desktop(path, [a.id for a in agents], user)
    except ConfigError:
        return {}
    return editor_lines(agents, desktop)


def _bwrap(config: Config, fenced: list[str]) -> list[Finding]:
    """bwrap installed and able to make a sandbox here for the ``fenced`` agents."""
    import subprocess

    from automation.launch.sandbox import bwrap_path, missing_line

    found = bwrap_path(config.env.get("PATH"))
    if found is None:
        return [Finding("sandbox", PROBLEM, missing_line(agent)) for agent in fenced]
    probe = [found, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
             "true"]  # fmt: skip
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [Finding("sandbox", PROBLEM, f"{found} does not run: {exc}")]
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return [Finding("sandbox", PROBLEM, f"{found} cannot make a sandbox here: {why[0]}")]
    return [Finding("sandbox", OK, f"{found} runs {', '.join(fenced)} sandboxed")]


def _desktop_windows(config: Config) -> list[Finding]:
    """The windows ``swarm desktop up`` opened: present, holding the point, command alive."""
    from automation.desktop.screen import NoDisplay, open_x_display
    from automation.desktop.session import DesktopSession, desktop_problems
    from core.agents_file import load_agents

    core = config.core
    if not (core.home / "desktop").is_dir():
        return []  # swarm desktop up was never used here
    try:
        display = open_x_display(config.env.get("DISPLAY"))
    except NoDisplay:
        return []  # the display check reports it
    try:
        session = DesktopSession(core.home, core.config_path, display, config.env)
        found = desktop_problems(session, load_agents(core.config_path))
    finally:
        display.close()
    bad = [f"{agent}: {'; '.join(p)}" for agent, p in found.items() if p]
    return [Finding("desktop windows", PROBLEM, line) for line in bad] or [
        Finding("desktop windows", OK, f"{len(found)} agent window(s) open, commands running")
    ]


def _on_screen(agent: Agent) -> bool:
    """Whether ``agent`` is delivered by the desktop driver only (a window, no tmux pane)."""
    return agent.delivery == "gui" and not agent.tmux


def _routes(agents: list[Agent]) -> str:
    """``2 agent(s) through tmux, 1 through its protocol``: how the agents get messages
    without a display."""
    counts = Counter(
        "tmux" if a.delivery in ("gui", "tmux") and a.tmux else a.delivery for a in agents
    )
    words = {"tmux": "through tmux", "protocol": "through their protocol"}
    parts = [f"{n} agent(s) {words.get(route, 'as inbox files')}" for route, n in counts.items()]
    return ", ".join(parts) or "no agent configured"


def _clipboard(config: Config) -> list[Finding]:
    from core.agents_file import load_agents

    if not any(_on_screen(a) for a in load_agents(config.core.config_path)):
        return [Finding("clipboard", SKIPPED, "not needed: no agent is delivered on screen")]
    tool = shutil.which("xsel")
    if tool is None:
        return [Finding("clipboard", PROBLEM, "xsel is not installed (apt-get install xsel)")]
    return [Finding("clipboard", OK, tool)]


def _database(config: Config) -> list[Finding]:
    if config.core.database_url:
        from bot.cli import doctor_pg

        return doctor_pg.database(config)
    db = config.core.db_path
    if not db.exists():
        parent = next(p for p in (db.parent, *db.parent.parents) if p.exists())
        if os.access(parent, os.W_OK):
            return [Finding("database", OK, f"{db} (created on first use)")]
        return [Finding("database", PROBLEM, f"{db}: cannot create it ({parent} is read-only)")]
    from core.database import sqlite_problem

    problem = sqlite_problem(db, config.core.busy_timeout_s)
    if problem is not None:
        return [Finding("database", PROBLEM, f"{db}: not writable ({problem})")]
    return [Finding("database", OK, f"{db} (writable)")]


def _coordinator(config: Config) -> list[Finding]:
    if config.core.database_url:
        from bot.cli import doctor_pg

        return doctor_pg.coordinator(config)
    from core.coordinator.home_lock import running_coordinator
    from core.formats.jsonshape import iso_utc

    running = running_coordinator(config.core.home)
    if running is None:
        return [
            Finding(
                "coordinator",
                PROBLEM,
                "not running for this SWARM_HOME: start "
                "'swarm run' (nothing is assigned or delivered)",
            )
        ]
    return [Finding("coordinator", OK, f"pid {running[0]} since {iso_utc(running[1])}")]


def _discord(config: Config) -> list[Finding]:
    settings = config.discord
    missing = [
        name
        for name, value in (
            ("DISCORD_TOKEN", settings.token),
            ("SWARM_GUILD_ID", settings.guild_id),
            ("SWARM_CHANNEL_ID", settings.channel_id),
            (
                "SWARM_ADMIN_IDS or SWARM_ADMIN_ROLE_IDS",
                settings.admin_ids or settings.admin_role_ids,
            ),
        )
        if not value
    ]
    if missing:
        local = _local_discord(config)
        if local is not None:
            return [local]
        return [
            Finding(
                "discord", PROBLEM, f"not set: {', '.join(missing)} (see docs/discord-setup.md)"
            )
        ]
    return [
        Finding(
            "discord",
            OK,
            f"guild {settings.guild_id}, channel {settings.channel_id}, notify {settings.notify}",
        )
    ]


def _local_discord(config: Config) -> Finding | None:
    """The local Discord ``swarm run --local-discord`` runs for this home (its bot connects
    there, not to discord.com), while that coordinator runs; None: none runs."""
    from bot.local_discord import RUNNING_FILE
    from core.coordinator.home_lock import running_coordinator

    try:
        said = json.loads((config.core.home / RUNNING_FILE).read_text(encoding="utf-8"))
        pid, url = int(said["pid"]), str(said["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    running = running_coordinator(config.core.home)
    if running is None or running[0] != pid:
        return None
    return Finding("discord", OK, f"the local Discord of swarm run --local-discord (pid {pid}) "
                   f"at {url}: the bot connects there")  # fmt: skip


def _no_discord(_: Config) -> list[Finding]:
    return [Finding("discord", SKIPPED, "not checked (--no-discord)")]


async def _discord_reach(config: Config, timeout_s: float) -> list[Finding]:
    """A real login with the token at DISCORD_API_BASE, then the guild and the channel."""
    from bot.discordbot.reach import reach

    found = await reach(config.discord, timeout_s)
    return [Finding("Discord API", OK if found.ok else PROBLEM, found.detail)]


async def _telegram(config: Config, timeout_s: float) -> list[Finding]:
    """Telegram when its token is set (docs/telegram.md): the keys, then the token
    (``bot.telegram.reach``); nothing when it is not."""
    try:
        settings = config.telegram
        if not settings.configured:
            return []
        settings.require_connection()
        from bot.telegram.reach import reach
    except SwarmError as exc:
        return [Finding("Telegram", PROBLEM, str(exc))]
    except ImportError:
        said = "python-telegram-bot is not installed: pip install 'swarm[telegram]'"
        return [Finding("Telegram", PROBLEM, said)]
    ok, detail = await reach(settings, timeout_s)
    return [Finding("Telegram", OK if ok else PROBLEM, detail)]


async def _slack(config: Config, timeout_s: float) -> list[Finding]:
    """Slack when a token or its channel is set (docs/slack.md): the keys, then the token and the
    channel (``bot.slack.reach``); nothing when none is."""
    try:
        settings = config.slack
        if not settings.configured:
            return []
        settings.require_connection()
        from bot.slack.reach import reach
    except SwarmError as exc:
        return [Finding("Slack", PROBLEM, str(exc))]
    except ImportError:
        return [
            Finding("Slack", PROBLEM, "slack-bolt is not installed: pip install 'swarm[slack]'")
        ]
    found = await reach(settings, timeout_s)
    return [Finding("Slack", OK if found.ok else PROBLEM, found.detail)]


async def _github(config: Config, timeout_s: float) -> list[Finding]:
    """The GitHub token against the API: who, which access, scopes, the rate limit left."""
    try:
        settings = config.github
    except SwarmError as exc:
        return [Finding("GitHub", PROBLEM, str(exc))]
    from core.github.status import check

    verdict = await check(settings, timeout_s)
    status = {"ok": OK, "problem": PROBLEM}.get(verdict.state, SKIPPED)
    return [Finding("GitHub", status, verdict.detail)]


async def _ai(config: Config, timeout_s: float) -> list[Finding]:
    try:
        settings = config.ai
    except SwarmError as exc:
        return [Finding("AI endpoint", PROBLEM, str(exc))]
    if not settings.enabled:
        return [
            Finding(
                "AI endpoint",
                SKIPPED,
                "no model configured (optional: OPENAI_API_KEY or OPENAI_BASE_URL)",
            )
        ]
    from openai import AsyncOpenAI, OpenAIError

    from core.privacy.redact import redact_urls

    client = AsyncOpenAI(
        api_key=settings.api_key or "none",
        base_url=settings.endpoint,
        timeout=timeout_s,
        max_retries=0,
    )
    try:
        models = await client.models.list()
    except OpenAIError as exc:
        return [
            Finding(
                "AI endpoint",
                PROBLEM,
                f"{redact_urls(settings.endpoint)} does not answer: {type(exc).__name__}",
            )
        ]
    finally:
        await client.close()
    return [
        Finding(
            "AI endpoint",
            OK,
            f"{redact_urls(settings.endpoint)} answers ({len(models.data)} model(s))",
        )
    ]
