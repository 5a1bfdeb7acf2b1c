"""``swarm hook``: what an agent CLI's hooks call. It records the agent's state and never fails
the agent: every outcome exits 0, malformed JSON and unknown events are logged, and a missing
or unreachable database ends it at once.

Claude Code gives its command hooks the event's JSON on stdin; Codex CLI gives its ``notify``
program the JSON as the last argument. The agent is ``--agent``, else ``$SWARM_AGENT`` when
that names a configured agent, else the one whose workspace holds the hook's ``cwd``. A
``PermissionRequest`` opens a prompt (Discord, the dashboard, ``swarm inbox``) and waits up to
``SWARM_APPROVAL_WAIT`` seconds for a person's decision, which it prints as Claude Code's
decision JSON; without one it prints nothing, so the agent's own dialog stays. Stopped while
it waits (SIGTERM, SIGHUP: its terminal closed, SIGINT, SIGPIPE) it closes its prompt and
exits 0; the prompt names the waiting process, so the coordinator closes it if the hook was
killed outright (``core.watch.dead_hooks``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the rest is imported where used: the relay path needs none of it
    import asyncio

    from bot.config import Config
    from core.agents.hook_events import HookEvent
    from core.agents.judge import Freshness
    from core.dialogs.permissions import HookProcess
    from core.store.access import StoreAccess
    from core.store.commit_watch import CommitWatch
    from core.store.postgres.listen import NotifyWait

log = logging.getLogger(__name__)
HOOK_BUSY_S = 2.0  # the longest a hook waits for the database's write lock
# A waiting PermissionRequest wakes when the SQLite store is written (inotify on its log) or
# on PostgreSQL when its prompt is decided (LISTEN), and at least every SAFETY_S. Where it
# cannot (no inotify, no LISTEN connection) it looks every POLL_S
# during its first FAST_S, then every POLL_MAX_S: each wake-up costs CPU (0.8 % of a core at
# 20 ms on the build machine, in asyncio's sleep alone), and a person answers after seconds.
SAFETY_S = 0.25
POLL_S = 0.02
FAST_S = 1.0
POLL_MAX_S = 0.1
# Signals that stop a waiting hook the way SIGTERM does: its prompt is closed, it exits 0.
STOP_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT", "SIGPIPE")


def register(sub: Any) -> None:
    """Add ``hook``."""
    p = sub.add_parser(
        "hook",
        help="record an agent's state from its CLI's hook JSON (installed by 'swarm agents "
        "hooks install'); always exits 0",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "payload", nargs="?", help="the event's JSON (Codex CLI's notify; Claude Code: stdin)"
    )
    p.add_argument("--agent", help="the agent (default: $SWARM_AGENT, else the workspace)")
    p.set_defaults(handler=cmd_hook, no_service=True)


async def cmd_hook(service: None, args: argparse.Namespace) -> int:
    """``swarm hook [--agent A] [PAYLOAD]`` (through the full parser: ``swarm -v hook``)."""
    return await hook(args.configuration, args.payload, args.agent, sys.stdin, sys.stdout)


def run(argv: list[str]) -> int:
    """``swarm hook ...`` straight from ``main``: no command tree to build; exits 0 always."""
    import asyncio

    try:
        parser = argparse.ArgumentParser(prog="swarm hook", add_help=False)
        parser.add_argument("payload", nargs="?")
        parser.add_argument("--agent")
        args, unknown = parser.parse_known_args(argv)
        from bot.config import Config
        from core.logs.setup import configure_logging

        config = Config.load()
        configure_logging(config.env)
        if unknown:
            log.warning("swarm hook: ignored arguments %s", unknown)
        return asyncio.run(hook(config, args.payload, args.agent, sys.stdin, sys.stdout))
    except (Exception, KeyboardInterrupt, SystemExit, asyncio.CancelledError) as exc:
        # a hook never fails its agent
        log.warning("swarm hook: %s: nothing recorded", exc or type(exc).__name__)
        return 0


async def hook(
    config: Config, payload: str | None, agent: str | None, stdin: TextIO, stdout: TextIO
) -> int:
    """Read the event, record it for its agent, answer a PermissionRequest; 0 always (also
    when a stop signal ends it: its prompt is closed first)."""
    import asyncio

    task = asyncio.current_task()
    assert task is not None
    with _stop_on_signals(task) as stopped:
        try:
            return await _hook(config, payload, agent, stdin, stdout)
        except asyncio.CancelledError:
            if not stopped:
                raise
            log.warning("swarm hook: stopped by %s", stopped[0])
            return 0


@contextlib.contextmanager
def _stop_on_signals(task: asyncio.Task[int]) -> Iterator[list[str]]:
    """While inside, each of ``STOP_SIGNALS`` cancels ``task`` (once: a second signal does
    not cut short the close of its prompt); the names of the signals that came. The handlers
    before are put back after (Python's own ``SIGPIPE``: ignored)."""
    import asyncio

    loop = asyncio.get_running_loop()
    stopped: list[str] = []

    def on_signal(number: int, _: object) -> None:
        name = signal.Signals(number).name
        if not stopped:
            loop.call_soon_threadsafe(task.cancel, name)
        stopped.append(name)

    before = {}
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is None:
            continue
        try:
            before[number] = signal.signal(number, on_signal)
        except ValueError:  # not the main thread (a test): no handlers of its own
            break
    try:
        yield stopped
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


async def _hook(
    config: Config, payload: str | None, agent: str | None, stdin: TextIO, stdout: TextIO
) -> int:
    from core.agents import hook_events
    from core.agents.hook_events import UnknownHookEvent, parse

    try:
        raw = payload if payload is not None else ("" if stdin.isatty() else stdin.read())
        event = parse(raw)
    except UnknownHookEvent as exc:
        log.warning("swarm hook: %s: nothing recorded", exc)
        return 0
    try:
        access = await _open(config)
    except Exception as exc:
        log.warning("swarm hook: the swarm database cannot be used (%s): nothing recorded", exc)
        return 0
    if access is None:
        return 0
    try:
        who = _agent_of(access, config, agent, event)
        if who is None:
            log.warning(
                "swarm hook: %s from %s: no agent (set SWARM_AGENT or --agent): nothing recorded",
                event.name,
                event.cwd or os.getcwd(),
            )
            return 0
        from bot.hook_server import freshness

        fresh = freshness(config)
        if event.asks_permission:
            await _ask(access, who, event, fresh, stdout)
        else:
            await access.write(who, hook_events.record, who, event, fresh, False)
    except Exception as exc:
        log.warning("swarm hook: %s not recorded: %s", event.name, exc)
    finally:
        await access.db.close()
    return 0


async def _open(config: Config) -> StoreAccess | None:
    """The store with its agents (not the whole service: a lighter start), with a short busy
    timeout; None (logged) when there is no database."""
    import dataclasses

    from core.agents_file import load_agents
    from core.protocols import SystemClock
    from core.store.access import StoreAccess
    from core.store.sqlite import open_store

    settings = config.core
    if not settings.database_url and not settings.db_path.exists():
        log.warning("swarm hook: no swarm database at %s: nothing recorded", settings.db_path)
        return None
    agents = load_agents(settings.config_path)
    settings = dataclasses.replace(
        settings, busy_timeout_s=min(settings.busy_timeout_s, HOOK_BUSY_S)
    )
    return StoreAccess(settings, agents, await open_store(settings), SystemClock())


def _agent_of(
    service: StoreAccess, config: Config, given: str | None, event: HookEvent
) -> str | None:
    """The agent of a hook run here (``agent_of`` with this process's environment)."""
    from bot.hook_server import agent_of

    return agent_of(service, given, config.env.get("SWARM_AGENT"), event, os.getcwd())


async def _ask(
    access: StoreAccess, agent: str, event: HookEvent, fresh: Freshness, stdout: TextIO
) -> None:
    """Open the prompt and wait (bounded) for its decision; print Claude Code's answer."""
    import asyncio
    import dataclasses

    from core.agent_state import AgentState
    from core.agents import hook_events
    from core.agents.hook_events import decision_json
    from core.dialogs import permissions as prompts

    wait_s = access.settings.approval_wait_s
    deadline = time.monotonic() + wait_s
    ask = functools.partial(hook_events.record, hook=_this_process(), wait_s=wait_s)
    prompt = await access.write(agent, ask, agent, event, fresh, True)
    if prompt is None:  # too long to show: the agent's own dialog decides
        log.warning("swarm hook: %s: too long to show: nothing asked", event.evidence)
        return
    changes = _changes(access, prompt.id)
    fast_until = time.monotonic() + FAST_S
    try:
        while True:
            # the prompt is read again only when something was committed since the last look
            current = (
                await access.read(prompts.get_prompt, prompt.id) if changes.changed() else None
            )
            if current is not None and current.decision is not None:
                by = current.decided_by or "someone"
                stdout.write(decision_json(current.decision, by, event.payload) + "\n")
                stdout.flush()
                label = current.option(current.decision).label
                answered = f"{event.evidence} answered {label!r} by {by}"
                done = dataclasses.replace(event, state=AgentState.WORKING, evidence=answered)
                await access.write(agent, hook_events.record, agent, done, fresh, False)
                return
            if current is not None and current.closed_at is not None:
                return  # closed elsewhere: the agent's own dialog decides
            if time.monotonic() >= deadline:
                why = f"no answer within {wait_s:g} s"
                await access.write(agent, prompts.close, prompt.id, why)
                return
            if changes.wakes_on_commits:  # woken by the next commit (or to check anyway)
                await changes.wait(min(SAFETY_S, max(0.0, deadline - time.monotonic())))
            else:
                await asyncio.sleep(POLL_S if time.monotonic() < fast_until else POLL_MAX_S)
    except asyncio.CancelledError as exc:  # a stop signal (SIGTERM, SIGHUP...), Ctrl+C
        why = "the agent stopped waiting" + (f" ({exc.args[0]})" if exc.args else "")
        await access.write(agent, hook_events.abandon, prompt.id, why, fresh)
        raise
    finally:
        changes.close()


def _this_process() -> HookProcess:
    """This hook process: where it runs and which process it is."""
    from core.dialogs.permissions import HookProcess
    from core.workspaces import procs

    me = procs.me()
    return HookProcess(procs.host(), me.pid, me.started, procs.pid_namespace())


def _changes(access: StoreAccess, prompt_id: int) -> CommitWatch | NotifyWait:
    """How the hook sees the prompt decided: the SQLite store's commit watch
    (``core.store.commit_watch``), or on PostgreSQL a LISTEN for the prompt's
    ``swarm_prompt`` notification."""
    from core.errors import StoreError
    from core.store.commit_watch import CommitWatch

    settings = access.settings
    if settings.database_url:
        from core.store.postgres.listen import NotifyWait
        from core.store.postgres.store import PROMPT_CHANNEL

        found = NotifyWait.open(settings.database_url, PROMPT_CHANNEL, str(prompt_id))
        return found if found is not None else CommitWatch(None)
    try:
        return CommitWatch(settings.db_path)
    except StoreError as exc:
        log.debug("swarm hook: no commit watch (%s): reading the prompt each time", exc)
        return CommitWatch(None)


def relay_or_run(argv: list[str], stdin: TextIO) -> int:
    """The event to the coordinator's socket on this machine (``bot.hook_relay``: no
    database opened here), else ``run`` through the database; 0 always."""
    try:
        parser = argparse.ArgumentParser(prog="swarm hook", add_help=False)
        parser.add_argument("payload", nargs="?")
        parser.add_argument("--agent")
        args, _ = parser.parse_known_args(argv)
        raw = args.payload if args.payload is not None else ("" if stdin.isatty() else stdin.read())
        from bot import hook_relay

        if hook_relay.send(raw, args.agent):
            return 0
        if args.payload is None:
            sys.stdin = io.StringIO(raw)  # read once already: ``run`` reads it again
    except (Exception, SystemExit) as exc:  # never fails its agent: the database path decides
        log.debug("swarm hook: the relay failed (%s)", exc)
    return run(argv)


def main() -> None:
    """``python -m bot.cli.hook``: what ``swarm agents hooks install`` writes; the same as
    ``swarm hook`` without importing the whole command tree (a faster start), through the
    coordinator's socket when one runs here."""
    sys.exit(relay_or_run(sys.argv[1:], sys.stdin))


if __name__ == "__main__":
    main()
