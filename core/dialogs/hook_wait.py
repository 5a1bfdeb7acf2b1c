"""A hook waiting for its prompt's decision (``swarm hook``'s ``PermissionRequest``, through
``core.agents._hook_intake``): bounded by its wait, woken by the store's commits, closing
its prompt when the wait runs out; and the hook process a prompt names, so the coordinator
closes the prompt of a hook killed outright (``core.dialogs.dead_hooks``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from core.dialogs import permissions as prompts
from core.dialogs.permissions import HookProcess
from core.workspaces import procs

if TYPE_CHECKING:  # the hook's start is its agent's cost: the rest is imported where used
    from core.dialogs.permissions import HookProcess, Prompt
    from core.store.access import StoreAccess

log = logging.getLogger(__name__)
# A waiting PermissionRequest wakes when the SQLite store is written (inotify on its log) or
# on PostgreSQL when its prompt is decided (LISTEN), and at least every SAFETY_S. Where it
# cannot (no inotify, no LISTEN connection) it looks every POLL_S
# during its first FAST_S, then every POLL_MAX_S: each wake-up costs CPU (0.8 % of a core at
# 20 ms on the build machine, in asyncio's sleep alone), and a person answers after seconds.
SAFETY_S = 0.25
POLL_S = 0.02
FAST_S = 1.0
POLL_MAX_S = 0.1


async def wait_for_decision(
    access: StoreAccess,
    agent: str,
    prompt_id: int,
    deadline: float,
    answered: Callable[[Prompt], Awaitable[None]],
    abandon: Callable[[str], Awaitable[None]],
) -> None:
    """Wait until ``deadline`` (``time.monotonic``) for prompt ``prompt_id``'s decision:
    ``answered`` gets the decided prompt; closed elsewhere, nothing (the agent's own dialog
    decides); no decision in time, the prompt is closed. Cancelled (a stop signal), the
    prompt is ``abandon``ed with why, then the cancellation goes on."""

    wait_s = access.settings.approval_wait_s
    changes = access.watch_prompt(prompt_id)
    fast_until = time.monotonic() + FAST_S
    try:
        while True:
            # the prompt is read again only when something was committed since the last look
            current = (
                await access.read(prompts.get_prompt, prompt_id) if changes.changed() else None
            )
            if current is not None and current.decision is not None:
                await answered(current)
                return
            if current is not None and current.closed_at is not None:
                return  # closed elsewhere: the agent's own dialog decides
            if time.monotonic() >= deadline:
                why = f"no answer within {wait_s:g} s"
                await access.write(agent, prompts.close, prompt_id, why)
                return
            if changes.wakes_on_commits:  # woken by the next commit (or to check anyway)
                await changes.wait(min(SAFETY_S, max(0.0, deadline - time.monotonic())))
            else:
                await asyncio.sleep(POLL_S if time.monotonic() < fast_until else POLL_MAX_S)
    except asyncio.CancelledError as exc:  # a stop signal (SIGTERM, SIGHUP...), Ctrl+C
        await abandon("the agent stopped waiting" + (f" ({exc.args[0]})" if exc.args else ""))
        raise
    finally:
        changes.close()


def this_process() -> HookProcess:
    """This hook process: where it runs and which process it is (its prompt names it, so
    the coordinator closes the prompt of a hook killed outright)."""

    me = procs.me()
    return HookProcess(procs.host(), me.pid, me.started, procs.pid_namespace())
