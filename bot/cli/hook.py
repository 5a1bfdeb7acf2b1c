"""``swarm hook``: what an agent CLI's hooks call. It records the agent's state and never fails
the agent: every outcome exits 0, malformed JSON and unknown events are logged, and a missing
or unreachable database ends it at once.

Claude Code gives its command hooks the event's JSON on stdin; Codex CLI gives its ``notify``
program the JSON as the last argument. The agent is ``--agent``, else ``$SWARM_AGENT`` when
that names a configured agent, else the one whose workspace holds the hook's ``cwd``. A
``PermissionRequest`` opens a prompt (Discord, the dashboard, ``swarm inbox``) and waits up to
``SWARM_APPROVAL_WAIT`` seconds for a person's decision, which it prints as Claude Code's
decision JSON; without one it prints nothing, so the agent's own dialog stays. A
``PermissionRequest`` of the model's own questions (``AskUserQuestion``) on a task the agent
holds opens a question item instead and prints the person's answers the same way. Stopped while
it waits (SIGTERM, SIGHUP: its terminal closed, SIGINT, SIGPIPE) it closes its prompt and
exits 0; the prompt names the waiting process, so the coordinator closes it if the hook was
killed outright (``core.dialogs.dead_hooks``).
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
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the rest is imported where used: the relay path needs none of it
    import asyncio

    from bot.config import Config
    from core.agents import HookEvent, HookIntake

log = logging.getLogger(__name__)
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
    from core.agents import HookIntake, UnknownHookEvent, parse

    try:
        raw = payload if payload is not None else ("" if stdin.isatty() else stdin.read())
        event = parse(raw)
    except UnknownHookEvent as exc:
        log.warning("swarm hook: %s: nothing recorded", exc)
        return 0
    try:
        intake = await HookIntake.open(config.core)
    except Exception as exc:
        log.warning("swarm hook: the swarm database cannot be used (%s): nothing recorded", exc)
        return 0
    if intake is None:
        return 0
    try:
        who = await _agent_of(intake, config, agent, event)
        if who is None:
            log.warning(
                "swarm hook: %s from %s: no agent (set SWARM_AGENT or --agent): nothing recorded",
                event.name,
                event.cwd or os.getcwd(),
            )
            return 0
        from bot.hook_common import freshness

        fresh = freshness(config)
        said = functools.partial(_print, stdout)
        if event.asks_permission:
            from core.questions import wait_through_hook

            if not await intake.ask_questions(who, event, fresh, said, wait_through_hook):
                await intake.ask(who, event, fresh, said)
        else:
            await intake.record(who, event, fresh)
    except Exception as exc:
        log.warning("swarm hook: %s not recorded: %s", event.name, exc)
    finally:
        await intake.close()
    return 0


def _print(stdout: TextIO, answer: str) -> None:
    """The decision JSON to the agent CLI, at once (it waits for it)."""
    stdout.write(answer + "\n")
    stdout.flush()


async def _agent_of(
    intake: HookIntake, config: Config, given: str | None, event: HookEvent
) -> str | None:
    """The agent of a hook run here: the one whose terminal this process runs in, else the
    name given (``--agent``, ``$SWARM_AGENT``, the workspace) when swarm cannot place that
    agent (``core.agents._identity``); a refused name is said in one line and recorded
    (None: nothing to record)."""
    import asyncio
    from pathlib import Path

    from bot.hook_common import hook_refusal
    from core.agents import Refused, Resolver, hook_agent

    resolver = Resolver(config.env, config.core.home)
    place = functools.partial(resolver.place, os.getpid(), intake.agents)
    placed = await asyncio.to_thread(place)
    named = (("--agent", given), ("SWARM_AGENT", config.env.get("SWARM_AGENT")))
    where = Path(event.cwd or os.getcwd())
    who = hook_agent(intake.agents, intake.settings.home, placed, named, where)
    if not isinstance(who, Refused):
        return who
    why = hook_refusal(event, who)
    log.warning("swarm hook: %s", why)
    command = f"swarm hook {event.name} --agent {who.named}"
    await intake.refused(placed.agent or "hook", who.named, command, why)
    return None


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
        if hook_relay.asks_permission(raw):  # its prompt opens after the events of its turn
            hook_relay.flush()
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
