"""An agent's own questions asked through its hook (Claude Code's ``AskUserQuestion`` on the
tmux route: its ``PermissionRequest`` hook): the ``swarm hook`` process opens the question
item and waits for the answer itself (bounded), to print it as the hook's decision; its
request is named ``hook:<id>``, so the coordinator's prompt keys never send it. No answer in
time, or the hook stopped, the question closes unanswered and the agent's own dialog stays
in its terminal.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from typing import Any

from core.context import Ctx
from core.questions import _queries as queries
from core.questions import _requests as requests
from core.questions._rows import Question
from core.store.access import StoreAccess
from core.store.conn import Conn

HOOK = "hook:"  # the request of a question a hook process waits on
POLL_S = 0.25  # how often the waiting hook reads its question
ANSWERED = "printed by the agent's hook"
GONE_AFTER_S = 60.0  # past its hook's wait, a question whose hook never closed it is closed
GONE = "the hook that asked it is gone (its wait is over)"


async def wait_through_hook(
    access: StoreAccess, agent: str, given: Mapping[str, Any], task_id: int, deadline: float
) -> str | None:
    """Open ``agent``'s questions (``given``) on its task and wait until ``deadline``
    (``time.monotonic``) for a person's answer: the reply its request takes, "" when none
    came (closed unanswered), None when it asks nothing readable."""
    request = HOOK + uuid.uuid4().hex
    asked = await access.write(agent, requests.ask_request, agent, request, given, task_id)
    if asked is None:
        return None
    try:
        while True:
            found = await access.read(queries.row, asked.id)
            if found is None or not found.open:
                return await _taken(access, found)
            if time.monotonic() >= deadline:
                why = f"no answer within {access.settings.approval_wait_s:g} s"
                await access.write(agent, requests.withdraw, agent, request, why)
                return await _taken(access, await access.read(queries.row, asked.id))
            await asyncio.sleep(POLL_S)
    except asyncio.CancelledError:  # a stop signal: the hook ends, its question closes
        await access.write(agent, requests.withdraw, agent, request, "the agent stopped waiting")
        raise


async def _taken(access: StoreAccess, question: Question | None) -> str:
    """The answer's reply, recorded as printed by the hook ("" when it has none)."""
    if question is None or not question.reply:
        return ""
    await access.write("swarm", _printed, question.id)
    return question.reply


def _printed(conn: Conn, ctx: Ctx, question_id: int) -> None:
    queries.mark_sent(conn, question_id, ANSWERED, ctx.now)


def hooks_gone_at(conn: Conn, wait_s: float) -> float | None:
    """When the oldest open hook question is past its hook's wait (``wait_s``, the
    approval wait) by ``GONE_AFTER_S``: its hook was killed outright (None: none open)."""
    found = queries.open_hooks(conn)
    return found[0].asked_at + wait_s + GONE_AFTER_S if found else None


def close_gone_hooks(conn: Conn, ctx: Ctx, wait_s: float) -> int:
    """Close the open hook questions whose hook is gone (past its wait by ``GONE_AFTER_S``:
    a hook killed outright never closes its own); how many."""
    gone = [q for q in queries.open_hooks(conn) if q.asked_at + wait_s + GONE_AFTER_S <= ctx.now]
    for question in gone:
        requests.withdraw(conn, ctx, question.agent or "", question.request or "", GONE)
    return len(gone)
