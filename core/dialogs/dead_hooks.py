"""Permission prompts whose hook can no longer answer them.

A ``PermissionRequest`` hook waits for its prompt's decision and closes the prompt when its
wait ends or it is stopped (SIGTERM, SIGHUP, SIGINT, SIGPIPE). A hook killed outright
(SIGKILL, a crash, its machine gone) or frozen (SIGSTOP) closes nothing: its prompt would stay
open and hold its agent ``waiting`` for ever. Each watch look (the coordinator's, and a
delivery node's for the hooks of its machine) closes such prompts:

- **gone**: the hook process recorded with the prompt no longer runs. Judged only for hooks
  of this machine and pid namespace (the same host name and namespace): a pid means nothing
  elsewhere. The process is its pid *and* its start time, so a pid the kernel gave to another
  process since does not keep the prompt open.
- **expired**: the hook's wait (``expires_at``, from its own ``SWARM_APPROVAL_WAIT``) ended
  more than ``GRACE_S`` ago, wherever the hook runs.

Each is closed by ``abandon`` (also a hook's own, when it is stopped while it waits); the
hook's own ``waiting`` observation then no longer holds the agent: the caller's ``release``
says so and judges the agent again (``core.agents._hook_events.release``, given by the
watch's loop and by the hook).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.context import Ctx
from core.dialogs import permissions as prompts
from core.store.conn import Conn
from core.workspaces import procs

if TYPE_CHECKING:
    from core.store.access import StoreAccess

log = logging.getLogger(__name__)
GRACE_S = 30.0  # after its wait, the time a hook has to close its prompt itself
# the agent of a hook's prompt just closed (the prompt as it was, why): its hook's own
# ``waiting`` no longer holds it, and it is judged again
Release = Callable[[Conn, Ctx, prompts.Prompt, str], None]


@dataclass(frozen=True)
class Place:
    """Where this process runs: the processes it can judge are those of the same place."""

    host: str
    pidns: str


def here() -> Place:
    """This machine and pid namespace."""
    return Place(procs.host(), procs.pid_namespace())


def abandoned(prompt: prompts.Prompt, now: float, place: Place) -> str | None:
    """Why nothing will answer ``prompt`` any more, or None while its hook still may."""
    if prompt.expires_at is not None and now >= prompt.expires_at + GRACE_S:
        return f"expired: its hook's wait ended {now - prompt.expires_at:.0f} s ago"
    hook = prompt.hook
    if hook is None or (hook.host, hook.pidns) != (place.host, place.pidns):
        return None  # another machine's process: judged there, or by its deadline
    if procs.Proc(hook.pid, hook.started).alive():
        return None
    return f"its hook is gone ({hook})"


async def sweep(service: StoreAccess, release: Release, actor: str) -> list[int]:
    """Close the open hook prompts nothing answers any more (one write, only when there
    are some), each agent ``release``d; their ids."""
    waiting = await service.read(prompts.waiting_hooks)
    if not waiting:
        return []
    now, place = service.clock.now(), here()
    found = [(p.id, why) for p in waiting if (why := abandoned(p, now, place)) is not None]
    if not found:
        return []
    closed: list[int] = await service.write(actor, close_all, found, release)
    for prompt_id, why in found:
        if prompt_id in closed:
            log.warning("prompt R-%d closed: %s", prompt_id, why)
    return closed


def close_all(
    conn: Conn, ctx: Ctx, found: Sequence[tuple[int, str]], release: Release
) -> list[int]:
    """Close each prompt with its reason (unless decided or closed meanwhile), its agent
    judged again at once; the ids closed."""
    return [n for n, why in found if abandon(conn, ctx, n, why, release)]


def abandon(conn: Conn, ctx: Ctx, prompt_id: int, why: str, release: Release) -> bool:
    """Close a hook's prompt that nothing waits for any more (its hook was stopped or is
    gone, or its wait is long over), then ``release`` its agent. True when this closed it
    (False: decided or closed meanwhile)."""
    closed = prompts.close_if_open(conn, ctx, prompt_id, why)
    if closed is None:
        return False
    release(conn, ctx, closed, why)
    return True
