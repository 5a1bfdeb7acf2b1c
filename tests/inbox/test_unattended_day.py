"""Issue 41's "Done when": an unattended day replayed with hook-equipped agents ends with
every event that needs a person in "Needs you" or handled, and no task parked without a
word (real store, the real Scheduler and Watcher on a manual clock, hook JSON through the
real parser and recorder, the real bot against the local Discord)."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from localdiscord import LocalDiscordServer, running_client

from core.agents import _hook_events as hook_events
from core.coordinator.jobs import Jobs, Watcher
from core.coordinator.scheduler import Scheduler
from core.history.events import EventFilter
from core.inbox.needs import Need
from core.models import ACTIVE, Event, Task, TaskSpec, TaskStatus
from core.posts.health import URGENT, urgent_consumer
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.watch.stalls import freshness
from tests.discord.conftest import builder_for, server  # noqa: F401 - the local Discord
from tests.discord.test_notifier import has
from tests.discord.test_notifier_gone import delete_message, until
from tests.helpers import RecordingDeliverer
from tests.watch.conftest import watch_settings

pytestmark = pytest.mark.timeout(60)

FAST = {
    "interval_s": 1.0,
    "stall_after_s": 4.0,
    "reassign_after_s": 14.0,
    "grace_s": 2.0,
    "nudge_cooldown_s": 1.0,
    "limit_handoff_s": 10.0,
}
AGENTS = ("Agent-1", "Agent-2", "Agent-3", "Agent-4")
LIMIT_429: dict[str, Any] = {
    "error": "rate_limit",
    "error_details": "Request rejected (429) · over the limit",
}


async def no_summary(period: str) -> str:
    """The daily summary (off in this day)."""
    return period


class Day:
    """The coordinator's loop, one second at a time, and the agents' hooks reacting to what
    reaches them."""

    def __init__(self, service: SwarmService, clock: ManualClock) -> None:
        self.service, self.clock = service, clock
        self.deliverer = RecordingDeliverer()
        watch = watch_settings(**FAST)
        self.watcher = Watcher(service, watch)  # no screens: judged on hooks alone
        self.jobs = Jobs(service, watch, no_summary, self.watcher, UTC)
        self.scheduler = Scheduler(service, self.deliverer, timers=[self.jobs])
        self.fresh = freshness(service.ctx("hook"), watch_settings(**FAST))
        self.seen = 0  # parcels the agents have reacted to
        self.frozen: set[str] = set()  # agents that acknowledge every paste, nothing more
        self.limited: set[str] = set()  # agents whose turns end by a usage limit
        self.working: dict[str, int] = {}  # agent -> task it works on (a tool call a second)

    async def hook(self, agent: str, name: str, ask: bool = False, **fields: Any) -> Any:
        """``agent``'s Claude Code hook sends ``name`` (as ``swarm hook`` records it)."""
        raw = json.dumps({"hook_event_name": name, "session_id": f"s-{agent}"} | fields)
        event = hook_events.parse(raw)
        return await self.service.store.write(
            agent, hook_events.record, agent, event, self.fresh, ask
        )

    async def second(self) -> None:
        """One second: the agents react to what reached them and work; the scheduler
        assigns, delivers and fires the watcher."""
        self.clock.advance(1)
        await self.scheduler.run_burst()
        await self.scheduler.fire_timers()
        await self.scheduler.run_burst()
        new = self.deliverer.parcels[self.seen :]
        self.seen = len(self.deliverer.parcels)
        for parcel in new:
            agent = parcel.agent.id
            await self.hook(agent, "UserPromptSubmit", prompt=parcel.text)
            if agent in self.limited:  # each turn ends by the API's 429
                await self.hook(agent, "StopFailure", **LIMIT_429)
            elif agent in self.frozen:
                await self.hook(agent, "Stop")  # acknowledged, nothing done
            elif parcel.task_id is not None and await self.holds(agent, parcel.task_id):
                self.working[agent] = parcel.task_id
        for agent in list(self.working):
            await self.hook(agent, "PreToolUse", tool_name="Bash", tool_input={"command": "make"})

    async def start(self) -> None:
        await self.jobs.start()

    async def holds(self, agent: str, task_id: int) -> bool:
        """Whether ``agent`` holds the task (a prompt, not a notice that it was withdrawn)."""
        task = await self.service.tasks.get(task_id)
        return task.agent == agent and task.status in ACTIVE

    async def limit(self, agent: str) -> None:
        """``agent`` hits its usage limit: its turn ends by a 429, and every turn after."""
        self.working.pop(agent, None)
        self.limited.add(agent)
        await self.hook(agent, "StopFailure", **LIMIT_429)

    async def seconds(self, count: int) -> None:
        for _ in range(count):
            await self.second()


async def holder(service: SwarmService, task_id: int) -> str | None:
    return (await service.tasks.get(task_id)).agent


async def new_task(day: Day, title: str) -> tuple[int, str]:
    """A task anyone may take, assigned and delivered; (its id, its holder)."""
    task = await day.service.tasks.create(TaskSpec(title), "cli")
    await day.second()
    agent = await holder(day.service, task.id)
    assert agent is not None, title
    return task.id, agent


async def test_an_unattended_day_ends_with_everything_in_needs_you_or_handled(
    server: LocalDiscordServer,  # noqa: F811 - the fixture imported above
    service: SwarmService,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    # overnight the agents file lost the data agent: four hooked agents are left
    stranded = await service.tasks.create(TaskSpec("Load the sales data", role="data"), "cli")
    kept = [a for a in service.agents.values() if a.id in AGENTS]
    await service.replace_agents(kept, tmp_path / "agents.toml")
    day = Day(service, clock)
    await day.start()
    builder = builder_for(server, service)
    channel = server.guild.channels[0]
    async with builder.ai(service) as ai, running_client(server, builder.bot(service, ai)):
        limited, limited_agent = await new_task(day, "Fix the parser")
        lexer = await service.tasks.create(TaskSpec("Fix the lexer", agent=limited_agent), "cli")
        frozen, frozen_agent = await new_task(day, "Write the changelog")
        frozen_at = clock.now()
        day.frozen.add(frozen_agent)
        day.working.pop(frozen_agent, None)
        review, review_agent = await new_task(day, "Review the API")
        card = await server.wait_for_message(
            has(f"**T-{review}** · Review the API"), channel=channel
        )
        await delete_message(server, card)  # a person deletes the bot's card
        await service.tasks.start(review, review_agent, "reading the handlers")
        anew = await server.wait_for_message(
            has(f"**T-{review}** · Review the API — in progress ({review_agent})"), channel=channel
        )
        # the usage limit: the turn ends by a 429; so does each later turn (a notice pasted)
        limited_at = clock.now()
        await day.limit(limited_agent)
        await day.seconds(45)
        # the day ends with a permission prompt open
        prompt = await day.hook(
            review_agent, "PermissionRequest", ask=True, tool_name="Bash",
            tool_input={"command": "rm -rf build"},
        )  # fmt: skip
        await day.second()
        await check_the_evening(day, server, locals())


async def caught_up(service: SwarmService) -> None:
    """Wait until the bot has handled every event so far (its urgent loop, only those it
    posts)."""
    last = (await service.history.last(1))[-1].id
    urgent = await service.history.find(EventFilter(kinds=URGENT), limit=100_000)
    last_urgent = urgent[-1].id if urgent else 0

    async def done() -> bool:
        return (
            await service.posts.cursor("discord") >= last
            and await service.posts.cursor(urgent_consumer("discord")) >= last_urgent
        )

    await until(done, "the notifier caught up", timeout_s=20)


def explained(task: Task, latest: Event, needs: dict[str, Need], stalled: set[str]) -> bool:
    """Whether a task not done says why it is where it is: listed in "Needs you" itself or
    through its holder's open item, or its latest event is its holder's progress."""
    if task.ref in needs or (task.agent is not None and task.agent in stalled):
        return True
    if task.status is TaskStatus.ready:  # back in the queue: the event says why
        return latest.kind == "task.requeued" and bool(task.reason)
    held = {"task.assigned", "task.started", "task.progress", "task.handed_on"}
    return task.status in ACTIVE and latest.kind in held


async def check_the_evening(day: Day, local: LocalDiscordServer, seen: dict[str, Any]) -> None:
    service = day.service
    await caught_up(service)
    needs = {n.ref: n for n in await service.inbox.needs()}
    # the unassignable task, with its reason and its actions
    stranded = needs[f"T-{seen['stranded'].id}"]
    assert stranded.kind == "stranded" and "waits for a 'data' agent" in stranded.text
    assert stranded.actions == ("reassign", "cancel")
    # the permission prompt open at the end of the day
    prompt = needs[f"R-{seen['prompt'].id}"]
    assert prompt.kind == "prompt" and prompt.agent == seen["review_agent"]
    assert "rm -rf build" in prompt.text and prompt.actions == ("approve", "reject", "decide")
    # the limit: one post, the task handed on with its reason, worked on by another agent
    limited_agent, parser = seen["limited_agent"], await service.tasks.get(seen["limited"])
    posts = [m for m in local.store.all() if "⏳" in m.content and limited_agent in m.content]
    assert len(posts) == 1, [m.content for m in posts]
    assert parser.agent not in (None, limited_agent)
    handed = await service.history.find(EventFilter(task_id=parser.id, kinds=("task.requeued",)))
    assert f"{limited_agent} is limited until" in handed[0].text
    assert handed[0].ts - seen["limited_at"] >= FAST["limit_handoff_s"]  # not before
    # the task pinned to the limited agent is its probe (the limit named no reset): the
    # limit hit it again, and the task it holds says so
    pinned = needs[f"T-{seen['lexer'].id}"]
    assert pinned.kind == "holding" and pinned.agent == limited_agent
    assert f"is held by {limited_agent}, which is limited until " in pinned.text
    # the freeze: stalled, nudged, taken back with the reason, within the documented bound
    frozen_agent, frozen = seen["frozen_agent"], seen["frozen"]
    took = await service.history.find(EventFilter(task_id=frozen, kinds=("task.requeued",)))
    assert took and f"{frozen_agent} stalled" in took[0].text
    nudged = await service.history.find(EventFilter(task_id=frozen, kinds=("agent.nudged",)))
    assert nudged and nudged[0].ts < took[0].ts
    bound = FAST["grace_s"] + FAST["reassign_after_s"] + FAST["interval_s"]
    assert took[0].ts - seen["frozen_at"] <= bound
    # the only free agent then is the frozen one: the task goes back to it (the last holder
    # is avoided, not excluded), and each round is taken back again with its reason
    assert len(took) >= 2 and all(f"{frozen_agent} stalled" in e.text for e in took)
    # what needs a person reached Discord too: the stall alert, the prompt with its buttons
    shown = [m for m in local.store.all() if not m.deleted]
    stall_posts = [m for m in shown if f"🚨 {frozen_agent} stalled" in m.content]
    actions = {i.split(":")[2] for m in stall_posts for i in m.custom_ids()}
    assert {"handon", "nudge", "cancel"} <= actions, actions  # the alert carries its actions
    (asked,) = [m for m in shown if f"R-{seen['prompt'].id} · " in m.content]
    assert len(asked.custom_ids()) == 3
    # the deleted card: posted anew (the live card now) and recorded
    assert seen["anew"].id != seen["card"].id and not seen["anew"].deleted
    reposted = await service.history.find(EventFilter(kinds=("post.reposted",)))
    assert [e.task_id for e in reposted] == [seen["review"]]
    # no task parked without a word
    stalled = {n.agent for n in needs.values() if n.kind == "alert" and n.agent}
    for task in await service.tasks.newest():
        if task.status is TaskStatus.done:
            continue
        events = await service.history.find(EventFilter(task_id=task.id), limit=1000)
        latest = [e for e in events if e.kind.startswith("task.")][-1]
        assert explained(task, latest, needs, stalled), (task, latest, list(needs))
