"""What the notifier's urgent loop posts: what a person must act on (``Shown.urgent``). An
alert goes to the front end's alerts place, with its actions while open; an agent's
permission prompt and a PR whose CI failed past its retries are one live post each (``prompt:N``,
``github-ci:N``), edited when decided or closed; a gate that starts waiting gets one post.
"""

from __future__ import annotations

from core.coordinator.front_end import AlertPost, CiPost, GatePost, PromptPost
from core.coordinator.post_loop import PostLoop
from core.errors import NotFound, SwarmError
from core.event_kinds import EventKind, Urgent, shown
from core.inbox.needs import Need
from core.models import BlockedOn, Event, TaskStatus
from core.posts.notify import NotifyLevel
from core.service.swarm import SwarmService
from core.workflows.service import WorkflowBook


def prompt_key(prompt_id: int) -> str:
    """The ``posts`` key of a permission prompt's post."""
    return f"prompt:{prompt_id}"


def gate_key(task_id: int) -> str:
    """The ``posts`` key of a workflow gate's post."""
    return f"gate:{task_id}"


def ci_key(task_id: int) -> str:
    """The ``posts`` key of a task's CI post."""
    return f"github-ci:{task_id}"


class UrgentPosts:
    """Posts (or edits) what an urgent event changes, through the urgent loop."""

    def __init__(self, service: SwarmService, loop: PostLoop, level: NotifyLevel) -> None:
        self.service = service
        self.loop = loop
        self.level = level
        self.front_end = loop.front.name
        self.github = service.github
        self.flows = WorkflowBook(service.store)

    async def handle(self, event: Event) -> None:
        """Post or edit what an event a person must act on changes (posted at every level,
        alerts at ``quiet`` only when something failed)."""
        entry = shown(event.kind)
        if entry.urgent is Urgent.ALERT:
            if self.level is not NotifyLevel.quiet or entry.quiet:
                await self._alert(event)
        elif entry.urgent is Urgent.PROMPT:
            await self._prompt(event)
        elif entry.urgent is Urgent.CI:
            await self._ci(event)
        elif entry.urgent is Urgent.GATE and event.task_id is not None:
            await self._gate(event)

    async def _alert(self, event: Event) -> None:
        """An alert's event; an opened one with its "Needs you" actions (as the inbox shows
        them) while it is still open."""
        need = await self._need(event) if event.kind == EventKind.ALERT_OPENED else None
        await self.loop.send(AlertPost(event, need))

    async def _need(self, event: Event) -> Need | None:
        number = (event.data or {}).get("alert")
        if not isinstance(number, int):
            return None
        try:
            return await self.service.inbox.item(f"A-{number}")
        except SwarmError:  # cleared by the time it is posted
            return None

    async def _prompt(self, event: Event) -> None:
        """A ``prompt.*`` event: the prompt's post, as the prompt is now (posted while it is
        open, edited when decided or closed; a post that is gone: posted anew)."""
        prompt_id = (event.data or {}).get("prompt")
        post = (
            await self.service.posts.post(self.front_end, prompt_key(int(prompt_id)))
            if prompt_id
            else None
        )
        try:
            prompt = await self.service.inbox.prompt(int(prompt_id)) if prompt_id else None
        except NotFound:  # gone (archived): nothing left to show
            prompt = None
        if prompt is None:
            await self.service.posts.set_cursor(self.loop.consumer, event.id)
            return
        creates = event.kind == EventKind.PROMPT_OPENED and prompt.open
        await self.loop.show(prompt_key(prompt.id), PromptPost(prompt), event, creates, post)

    async def _ci(self, event: Event) -> None:
        """``github.ci_exhausted`` / ``_decided``: the task's CI post, with the choice once
        made."""
        task_id = event.task_id
        if task_id is None:
            await self.service.posts.set_cursor(self.loop.consumer, event.id)
            return
        post = await self.service.posts.post(self.front_end, ci_key(task_id))
        decided = await self.github.ci_decision(task_id)
        item = CiPost(task_id, await self.github.ci_exhausted(task_id), decided)
        creates = event.kind == EventKind.GITHUB_CI_EXHAUSTED and decided is None
        await self.loop.show(ci_key(task_id), item, event, creates, post)

    async def _gate(self, event: Event) -> None:
        """A gate's post: made when it starts waiting (not when it was decided before the
        event got here: a replay), edited when it is decided, wherever (its buttons gone,
        the decision and who made it shown)."""
        assert event.task_id is not None
        try:
            task = await self.service.tasks.get(event.task_id)
        except NotFound:
            await self.service.posts.set_cursor(self.loop.consumer, event.id)
            return
        waiting = task.status is TaskStatus.blocked and task.blocked_on is BlockedOn.gate
        decided = None
        if event.kind != EventKind.GATE_WAITING:
            word = "approved" if event.kind == EventKind.GATE_APPROVED else "rejected"
            decided = f"{word} by {event.actor or 'someone'}"
        creates = event.kind == EventKind.GATE_WAITING and waiting
        post = await self.service.posts.post(self.front_end, gate_key(task.id))
        campaign_id = await self.flows.campaign_of_task(task.id)
        item = GatePost(task, campaign_id, decided)
        await self.loop.show(gate_key(task.id), item, event, creates, post)
