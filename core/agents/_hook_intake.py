"""``swarm hook``'s own way into the database, when no coordinator's socket on this machine
takes the event (``bot.hook_relay``): ``HookIntake.open`` opens the store with the agents
only (not the whole service: a lighter start) and a short busy timeout; ``record`` writes
one event; ``ask`` opens a ``PermissionRequest``'s prompt and waits (bounded:
``core.dialogs.hook_wait``) for a person's decision, handing Claude Code's answer to the
front end to print.

The front end (``bot.cli.hook``) reads the event, names its agent and prints; this module
never touches stdin or stdout.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the hook's start is its agent's cost: the rest is imported where used
    from core.agents._hook_events import HookEvent
    from core.agents._judge import Freshness
    from core.dialogs.permissions import Prompt
    from core.models import Agent
    from core.settings import Settings
    from core.store.access import StoreAccess

log = logging.getLogger(__name__)
HOOK_BUSY_S = 2.0  # the longest a hook waits for the database's write lock
# An agent's own questions asked through its hook, waited on (``core.questions``' function,
# handed in by the front end): the store, the agent, the questions' input, the task, the
# deadline (``time.monotonic``); the person's answer as the request takes it, "" when none
# came (the question closed unanswered), None when it asks nothing readable.
QuestionWait = Callable[["StoreAccess", str, Mapping[str, Any], int, float], Awaitable[str | None]]


class HookIntake:
    """The store as one hook process records through it; ``close`` it after."""

    def __init__(self, access: StoreAccess) -> None:
        self._access = access

    @classmethod
    async def open(cls, settings: Settings) -> HookIntake | None:
        """The store of ``settings`` with its agents, a busy timeout of at most
        ``HOOK_BUSY_S``; None (logged) when there is no database: a missing SQLite file is
        not created (a hook of an agent whose swarm never ran)."""
        from core.agents_file import load_agents
        from core.protocols import SystemClock
        from core.store.access import StoreAccess
        from core.store.sqlite import missing_file, open_store

        missing = missing_file(settings)
        if missing is not None:
            log.warning("swarm hook: no swarm database at %s: nothing recorded", missing)
            return None
        agents = load_agents(settings.config_path)
        settings = dataclasses.replace(
            settings, busy_timeout_s=min(settings.busy_timeout_s, HOOK_BUSY_S)
        )
        return cls(StoreAccess(settings, agents, await open_store(settings), SystemClock()))

    @property
    def agents(self) -> Mapping[str, Agent]:
        """The configured agents (who may send a hook)."""
        return self._access.agents

    @property
    def settings(self) -> Settings:
        """The settings (their home holds the agents' workspaces)."""
        return self._access.settings

    async def refused(self, actor: str, agent: str, command: str, why: str) -> None:
        """Record a hook event refused (its agent's name is not its caller's): an
        ``access.refused`` event and an audit row."""
        from core.history.service import HistoryBook
        from core.workspaces import os_user

        await HistoryBook(self._access).refused(actor, agent, command, why, os_user())

    async def record(self, agent: str, event: HookEvent, fresh: Freshness) -> None:
        """Write ``agent``'s observation from ``event`` (one transaction)."""
        from core.agents import _hook_events as hook_events

        await self._access.write(agent, hook_events.record, agent, event, fresh, False)

    async def ask(
        self, agent: str, event: HookEvent, fresh: Freshness, answer: Callable[[str], None]
    ) -> None:
        """Open the prompt and wait (bounded: ``SWARM_APPROVAL_WAIT``) for its decision;
        ``answer`` gets Claude Code's decision JSON when a person decided in time. Cancelled
        (a stop signal), the prompt is abandoned, then the cancellation goes on."""
        from core.agents import _hook_events as hook_events
        from core.dialogs import dead_hooks, hook_wait

        access = self._access
        wait_s = access.settings.approval_wait_s
        deadline = time.monotonic() + wait_s
        ask = functools.partial(hook_events.record, hook=hook_wait.this_process(), wait_s=wait_s)
        prompt = await access.write(agent, ask, agent, event, fresh, True)
        if prompt is None:  # too long to show: the agent's own dialog decides
            log.warning("swarm hook: %s: too long to show: nothing asked", event.evidence)
            return

        async def close_on_stop(why: str) -> None:
            release = functools.partial(hook_events.release, fresh=fresh)
            await access.write(agent, dead_hooks.abandon, prompt.id, why, release)

        answered = functools.partial(self._answered, agent, event, fresh, answer=answer)
        await hook_wait.wait_for_decision(
            access, agent, prompt.id, deadline, answered, close_on_stop
        )

    async def ask_questions(
        self,
        agent: str,
        event: HookEvent,
        fresh: Freshness,
        answer: Callable[[str], None],
        wait: QuestionWait,
    ) -> bool:
        """The agent's own questions (Claude Code's ``AskUserQuestion``) as a question item
        on the task it holds, waited on (bounded: ``SWARM_APPROVAL_WAIT``); ``answer`` gets
        what the hook prints for the person's answers. False when the request asks no
        questions, the agent holds no task or its questions are unreadable: then it is a
        prompt like any request (``ask``)."""
        from core.agent_state import AgentState
        from core.agents import queries as agent_queries

        given = event.dialog.questions(event.payload) if event.dialog is not None else None
        if given is None or event.dialog is None:
            return False
        access = self._access
        task = await access.read(agent_queries.task_in_hand, agent)
        if task is None:
            return False
        await self.record(agent, event, fresh)
        deadline = time.monotonic() + access.settings.approval_wait_s
        reply = await wait(access, agent, given, task, deadline)
        if reply is None:
            return False
        if reply:
            answer(event.dialog.answer_questions(reply, event.payload))
            said = f"{event.evidence} answered through swarm"
            done = dataclasses.replace(event, state=AgentState.WORKING, evidence=said)
            await self.record(agent, done, fresh)
        return True

    async def _answered(
        self,
        agent: str,
        event: HookEvent,
        fresh: Freshness,
        decided: Prompt,
        answer: Callable[[str], None],
    ) -> None:
        """Hand over the decision (first: the agent waits for it), then record the agent
        working again, the answer as its evidence."""
        from core.agent_state import AgentState

        assert decided.decision is not None
        by = decided.decided_by or "someone"
        answer(event.answer(decided.decision, by))
        label = decided.option(decided.decision).label
        answered = f"{event.evidence} answered {label!r} by {by}"
        done = dataclasses.replace(event, state=AgentState.WORKING, evidence=answered)
        await self.record(agent, done, fresh)

    async def close(self) -> None:
        """Close the store."""
        await self._access.close()
