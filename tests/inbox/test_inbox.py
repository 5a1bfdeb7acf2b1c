"""One queue of what needs a person: questions, prompts, gates, draft plans and alerts, oldest
first, each answered in place by its reference; a second answer names who decided."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.agent_state import AgentState, Observation, Signal
from core.agents import _alerts as alerts
from core.agents import _signals as agent_signals
from core.dialogs import permissions as prompts
from core.errors import InvalidInput, InvalidState, NotFound, PersonOnly
from core.history.events import EventFilter
from core.models import PromptOption, Receipt, TaskSpec, TaskStatus
from core.planning._store import insert_plan
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.tasks import _held as held
from core.workflows import Workflow, WorkflowBook

pytestmark = pytest.mark.both_databases

OPTIONS = (
    PromptOption("1", "Yes", "allow_once"),
    PromptOption("2", "Yes, and don't ask again", "allow_always"),
    PromptOption("3", "No", "reject_once"),
)


async def open_prompt(service: SwarmService, agent: str, text: str, **kw: Any) -> int:
    """A permission prompt ``agent`` shows; its id."""
    found = await service.store.write(
        agent, prompts.open_prompt, agent, Signal.HOOK, text, kw.pop("options", OPTIONS)
    )
    return found.id


async def draft_plan(service: SwarmService, summary: str) -> int:
    """A draft plan of two tasks, as the model would give it; its id."""
    document = {
        "summary": summary,
        "tasks": [
            {"ref": "a", "title": "Write the parser", "role": "qa"},
            {"ref": "b", "title": "Test the parser", "after": ["a"]},
        ],
    }
    return await service.store.write("boss", insert_plan, "parse things", document, "m", [])


async def waiting_gate(service: SwarmService) -> tuple[int, int]:
    """A workflow run whose gate waits for a person: (gate, the task after it)."""
    flows = WorkflowBook(service.store)
    flow = Workflow("ship").step("ok", "Approve shipping", gate=True)
    flow = flow.step("go", "Ship", needs=["ok"]).check()
    gate, go = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
    return gate, go


async def every_kind(service: SwarmService, clock: ManualClock) -> dict[str, str]:
    """One item of each kind, a second apart, in the order alert, plan, gate, prompt,
    question: the queue must put them in that order whatever their kind."""
    await service.store.write(
        "watch", alerts.open_alert, "Agent-3", alerts.STALLED, "Agent-3 stalled"
    )
    clock.advance(1)
    plan = await draft_plan(service, "A parser")
    clock.advance(1)
    gate, _ = await waiting_gate(service)
    clock.advance(1)
    prompt = await open_prompt(service, "Agent-1", "Bash(rm -rf build)\nAllow?")
    clock.advance(1)
    await service.tasks.create(TaskSpec("Pick a database", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    task = (await service.tasks.newest(agent="Agent-2"))[0]
    question = await service.questions.ask(task.ref, "Which database?", "Agent-2")
    return {
        "alert": "A-1",
        "plan": f"P-{plan}",
        "gate": f"T-{gate}",
        "prompt": f"R-{prompt}",
        "question": f"Q-{question.id}",
    }


async def test_the_queue_holds_every_kind_oldest_first_with_its_actions(
    service: SwarmService, clock: ManualClock
) -> None:
    refs = await every_kind(service, clock)
    found = await service.inbox.needs()
    assert [(n.kind, n.ref) for n in found] == [(k, refs[k]) for k in refs]
    by_kind = {n.kind: n for n in found}
    assert by_kind["question"].actions == ("reply",)
    assert by_kind["question"].concerns.startswith("Agent-2 on T-")
    assert by_kind["prompt"].options == OPTIONS and by_kind["prompt"].agent == "Agent-1"
    assert by_kind["prompt"].actions == ("approve", "reject", "decide")
    assert by_kind["gate"].actions == ("approve", "reject")
    assert by_kind["gate"].text == "Approve shipping"
    assert "1 task(s) wait for it" in by_kind["gate"].concerns
    assert by_kind["plan"].text == "A parser" and by_kind["plan"].concerns.startswith("drafted for")
    assert by_kind["alert"].actions == () and "clears itself" in by_kind["alert"].hint
    assert [n.since for n in found] == sorted(n.since for n in found)
    assert found[0].to_json()["ref"] == "A-1"


async def test_each_item_is_answered_in_place_and_leaves_the_queue(
    service: SwarmService, clock: ManualClock
) -> None:
    refs = await every_kind(service, clock)
    gate = int(refs["gate"][2:])
    answered = await service.inbox.approve(refs["gate"], "boss")
    assert answered.text == f"{refs['gate']} approved"
    assert (await service.tasks.get(gate + 1)).status is TaskStatus.ready
    approved = await service.inbox.approve(refs["plan"], "boss")
    assert approved.text.startswith(f"{refs['plan']} approved: 2 task(s) created")
    prompt = await service.inbox.reject(refs["prompt"], "boss")
    assert prompt.detail["decision"] == "3"  # reject: the last option ("No")
    question = await service.inbox.reply(refs["question"], "Postgres", "boss")
    assert question.answer == "Postgres" and question.answered_by == "boss"
    assert [n.ref for n in await service.inbox.needs()] == ["A-1"]  # an alert clears itself
    await service.store.write("watch", alerts.clear_alert, "Agent-3", alerts.STALLED, "works again")
    assert await service.inbox.needs() == []


async def test_a_second_decision_names_who_decided(
    service: SwarmService, clock: ManualClock
) -> None:
    refs = await every_kind(service, clock)
    await service.inbox.approve(refs["prompt"], "alice")
    await service.inbox.reject(refs["plan"], "alice")
    await service.inbox.approve(refs["gate"], "alice")
    await service.inbox.reply(refs["question"], "Postgres", "alice")
    with pytest.raises(InvalidState, match=f"{refs['prompt']} was already answered '1' by alice"):
        await service.inbox.reject(refs["prompt"], "bob")
    with pytest.raises(InvalidState, match="already answered '1' by alice"):
        await service.inbox.decide_prompt(int(refs["prompt"][2:]), "no-such-key", "bob")
    with pytest.raises(InvalidState, match=f"{refs['plan']} is already discarded by alice"):
        await service.inbox.approve(refs["plan"], "bob")
    with pytest.raises(InvalidState, match=f"{refs['gate']} was already approved by alice"):
        await service.inbox.reject(refs["gate"], "bob")
    with pytest.raises(InvalidState, match=f"{refs['question']} was already answered by alice"):
        await service.inbox.reply(refs["question"], "MySQL", "bob")


async def test_a_prompt_takes_any_of_its_options_and_refuses_others(
    service: SwarmService,
) -> None:
    first = await open_prompt(service, "Agent-1", "Edit main.py?")
    with pytest.raises(InvalidInput, match="has no option '7': choose one of 1, 2, 3"):
        await service.inbox.approve(f"R-{first}", "boss", option="7")
    answered = await service.inbox.approve(f"R-{first}", "boss", option="2")
    assert answered.detail["label"] == "Yes, and don't ask again"
    assert (await service.inbox.prompt(first)).decided_by == "boss"
    single = await open_prompt(
        service, "Agent-2", "Continue?", options=(PromptOption("y", "Continue"),)
    )
    with pytest.raises(InvalidInput, match="has no option that rejects: choose one with --opt"):
        await service.inbox.reject(f"R-{single}", "boss")
    await service.store.write("hook", prompts.close, single, "the agent moved on")
    with pytest.raises(InvalidState, match=f"R-{single} is closed: the agent moved on"):
        await service.inbox.approve(f"R-{single}", "boss")


@pytest.mark.parametrize(
    ("ref", "error", "text"),
    [
        ("X-3", NotFound, "unknown item 'X-3': items look like Q-3 (question), R-7"),
        ("R-", NotFound, "unknown item 'R-'"),
        ("R-99", NotFound, "unknown prompt R-99"),
        ("Q-99", InvalidInput, "Q-99 is a question: answer it with swarm reply Q-99 TEXT"),
        ("A-1", InvalidInput, "A-1 is an alert: nothing to approve"),
        ("P-42", NotFound, "unknown plan P-42"),
    ],
)
async def test_a_wrong_reference_is_one_line_and_changes_nothing(
    service: SwarmService, ref: str, error: type[Exception], text: str
) -> None:
    before = await service.history.last(1)
    with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")):
        await service.inbox.approve(ref, "boss")
    assert await service.history.last(1) == before


async def test_reply_takes_a_question_or_a_task_and_only_those(service: SwarmService) -> None:
    await service.tasks.create(TaskSpec("Pick a database", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    first = await service.questions.ask("T-1", "Which database?", "Agent-2")
    second = await service.questions.ask("T-1", "Which version?", "Agent-2")
    answered = await service.inbox.reply(f"Q-{second.id}", "16", "boss")  # not the oldest
    assert answered.id == second.id
    assert (await service.questions.open_question("T-1")) == first
    assert (await service.inbox.reply("1", "Postgres", "boss")).id == first.id  # bare: a task
    with pytest.raises(InvalidInput, match="P-1 is a plan: only a question takes a reply"):
        await service.inbox.reply("P-1", "yes", "boss")
    with pytest.raises(NotFound, match="unknown question Q-77"):
        await service.inbox.reply("Q-77", "yes", "boss")


async def test_a_held_item_is_listed_then_accepted_once_or_rejected(
    service: SwarmService,
) -> None:
    data = {"on_accept": "the review goes to Agent-1", "on_reject": "it is dropped"}
    first = await service.store.write(
        "github", held.hold, "github", "review", "k-1", "otto reviewed", data, None, "Agent-1"
    )
    assert first == 1
    assert (
        await service.store.write("github", held.hold, "github", "review", "k-1", "x", {}) is None
    )
    second = await service.store.write("github", held.hold, "github", "issue", "k-2", "edited", {})
    (one, two) = await service.inbox.needs()
    assert (one.ref, one.kind, one.agent, one.actions) == (
        "H-1",
        "held",
        "Agent-1",
        ("approve", "reject"),
    )
    assert one.concerns == "github review for Agent-1" and two.ref == f"H-{second}"
    said = await service.inbox.approve("H-1", "cli:boss")
    assert said.text == "H-1 accepted by cli:boss: the review goes to Agent-1"
    with pytest.raises(InvalidState, match="H-1 was already accepted by cli:boss"):
        await service.inbox.reject("H-1", "web:eve")
    assert (await service.inbox.reject(f"H-{second}", "web:eve")).text.startswith(
        f"H-{second} rejected by web:eve"
    )
    assert await service.inbox.needs() == []
    (accepted,) = await service.store.read(held.accepted, "github")
    assert accepted.id == 1 and accepted.decided_by == "cli:boss"
    with pytest.raises(NotFound, match="unknown item H-99"):
        await service.inbox.approve("H-99", "cli:boss")


async def test_a_ready_task_no_configured_agent_can_take_is_listed_with_what_to_do(
    service: SwarmService, tmp_path: Path
) -> None:
    """Issue 41, item 1: the agents file changed after the tasks were made (the data agent
    and Agent-2 left): their ready tasks wait for nobody, and the queue says so."""
    await service.tasks.create(TaskSpec("Load the data", role="data"), "cli")
    await service.tasks.create(TaskSpec("Draw the design", agent="Agent-2"), "cli")
    await service.tasks.create(TaskSpec("Any agent will do"), "cli")
    assert await service.inbox.needs() == []
    kept = [a for a in service.agents.values() if a.id not in {"Agent-2", "Agent-5"}]
    await service.replace_agents(kept, tmp_path / "agents.toml")
    found = {n.ref: n for n in await service.inbox.needs()}
    assert set(found) == {"T-1", "T-2"}
    assert found["T-1"].kind == "stranded"
    assert found["T-1"].text == "T-1 'Load the data' waits for a 'data' agent: none is configured"
    assert found["T-2"].text == "T-2 'Draw the design' waits for Agent-2, which is not configured"
    assert "swarm inbox reassign T-1 AGENT" in found["T-1"].hint
    assert "swarm task cancel T-1" in found["T-1"].hint
    assert (await service.inbox.item("T-2")).kind == "stranded"


async def test_a_task_held_by_a_limited_agent_is_listed_until_the_limit_ends(
    service: SwarmService, clock: ManualClock
) -> None:
    """Issue 41, item 1: an agent limited while it holds a task: the person may hand the
    task on, wait or cancel it; the item goes when the limit ends."""
    await service.tasks.create(TaskSpec("Fix the build", agent="Agent-1"), "cli")
    await service.queue.assign_batch()
    reset = clock.now() + 600
    limit = Observation(
        "Agent-1", Signal.TEXT, AgentState.LIMITED, clock.now(), "text: usage limit", until=reset
    )
    await service.store.update(agent_signals.record, limit)
    (need,) = await service.inbox.needs()
    assert (need.ref, need.kind, need.agent) == ("T-1", "holding", "Agent-1")
    assert need.text.startswith("T-1 'Fix the build' is held by Agent-1, which is limited until ")
    assert "hand it on (swarm inbox handon T-1)" in need.hint
    assert "swarm inbox reassign T-1 AGENT" in need.hint
    assert need.to_json()["limited_until"] == reset
    clock.advance(601)
    assert await service.inbox.needs() == []


async def test_a_task_held_by_an_offline_agent_is_listed_while_it_is_offline(
    service: SwarmService, clock: ManualClock
) -> None:
    """Issue 41, item 1: an agent whose CLI ended (its pane gone: offline) while it holds a
    task; before, nothing needed the person until the stall rules took the task back."""
    await service.tasks.create(TaskSpec("Fix the build", agent="Agent-1"), "cli")
    await service.queue.assign_batch()
    gone = "text: the tmux pane swarm-Agent-1:0 is gone"
    await service.store.update(
        agent_signals.set_state, "Agent-1", AgentState.OFFLINE, clock.now(), Signal.TEXT, gone
    )
    (need,) = await service.inbox.needs()
    assert (need.ref, need.kind, need.agent) == ("T-1", "holding", "Agent-1")
    assert need.text == (f"T-1 'Fix the build' is held by Agent-1, which is offline ({gone})")
    assert need.actions == ("handon", "reassign", "nudge", "cancel")
    await service.store.update(
        agent_signals.set_state, "Agent-1", AgentState.IDLE, clock.now(), Signal.TEXT, "text: ❯"
    )
    assert await service.inbox.needs() == []


async def fail_delivery(service: SwarmService, agent: str, text: str) -> int:
    """A message to ``agent`` whose delivery fails for good; the delivery's id."""
    await service.messages.send(agent, text, "cli")
    return await fail_next(service)


async def fail_next(service: SwarmService, why: str = "window gone") -> int:
    """The next due delivery fails for good; its id."""
    delivery = await service.queue.claim_delivery()
    assert delivery is not None
    await service.queue.record_receipt(delivery, Receipt.failed(why, "test", retryable=False))
    return delivery.id


async def deliver_next(service: SwarmService) -> int:
    """The next due delivery gets through; its id."""
    delivery = await service.queue.claim_delivery()
    assert delivery is not None
    await service.queue.record_receipt(delivery, Receipt.delivered("test"))
    return delivery.id


async def test_a_delivery_failed_for_good_waits_until_retried_or_dismissed(
    service: SwarmService, clock: ManualClock
) -> None:
    """Issue 41, item 1: a delivery that failed for good is an item (D-N) until a person
    retries it (queued again, its attempts anew) or dismisses it; a second action is told
    who acted; approve/reject and a retry of a delivery not waiting are one line."""
    first = await fail_delivery(service, "Agent-3", "please rebase on main")
    clock.advance(1)
    second = await fail_delivery(service, "Agent-4", "stand-up at 10")
    (one, two) = await service.inbox.needs()
    assert (one.ref, one.kind, one.agent, one.actions) == (
        f"D-{first}",
        "undelivered",
        "Agent-3",
        ("retry", "dismiss"),
    )
    assert one.text == (
        "message to Agent-3 failed after 1 attempt(s): window gone: 'please rebase on main'"
    )
    assert f"swarm inbox retry D-{first}" in one.hint and two.ref == f"D-{second}"
    with pytest.raises(InvalidInput, match=f"D-{first} is a failed delivery: retry it"):
        await service.inbox.approve(f"D-{first}", "boss")
    retried = await service.inbox.act(f"D-{first}", "retry", "cli:boss")
    assert retried.text == f"D-{first}: message to Agent-3 queued again"
    assert [n.ref for n in await service.inbox.needs()] == [f"D-{second}"]
    (again,) = [d for d in await service.messages.deliveries() if d.id == first]
    assert (again.state.value, again.attempts) == ("queued", 0)
    assert await deliver_next(service) == first
    said = await service.inbox.act(f"D-{second}", "dismiss", "web:eve")
    assert said.text == f"D-{second} dismissed by web:eve (message to Agent-4)"
    assert await service.inbox.needs() == []
    with pytest.raises(InvalidState, match=f"D-{second} was already dismissed by web:eve"):
        await service.inbox.act(f"D-{second}", "retry", "cli:boss")
    with pytest.raises(InvalidState, match=f"D-{first} is delivered: only a failed delivery"):
        await service.inbox.act(f"D-{first}", "dismiss", "cli:boss")
    with pytest.raises(NotFound, match="unknown delivery D-99"):
        await service.inbox.act("D-99", "retry", "cli:boss")
    with pytest.raises(InvalidInput, match="unknown action 'redo': one of retry, dismiss"):
        await service.inbox.act(f"D-{first}", "redo", "cli:boss")


async def test_a_failed_delivery_leaves_the_queue_once_a_later_one_gets_through(
    service: SwarmService, clock: ManualClock
) -> None:
    """A task's prompt that failed for good: the task went back to the queue; when a later
    prompt of it reaches the same agent, the failure is no longer an item. A prompt of a
    task the agent no longer holds is not retried (one line says so); a superseded one is
    never an item."""
    await service.tasks.create(TaskSpec("Fix the build", agent="Agent-1"), "cli")
    await service.queue.assign_batch()
    failed = await fail_next(service)
    (need,) = await service.inbox.needs()
    assert need.ref == f"D-{failed}" and need.task == "T-1"
    assert need.text.startswith("T-1 prompt to Agent-1 failed after 1 attempt(s): window gone")
    with pytest.raises(InvalidState, match=f"D-{failed} is T-1's prompt and Agent-1 no longer"):
        await service.inbox.act(f"D-{failed}", "retry", "cli:boss")
    clock.advance(3600)  # the task's backoff
    await service.queue.assign_batch()  # pinned to Agent-1: its prompt again
    assert [n.ref for n in await service.inbox.needs()] == [f"D-{failed}"]
    await deliver_next(service)
    assert await service.inbox.needs() == []
    with pytest.raises(InvalidState, match="a later delivery to Agent-1 got through"):
        await service.inbox.act(f"D-{failed}", "dismiss", "cli:boss")


async def test_a_stalled_or_limited_agents_task_is_handed_on_nudged_or_cancelled(
    service: SwarmService, clock: ManualClock
) -> None:
    """Issue 41, item 1: the actions on a stalled agent's alert and on a task held by a
    limited agent: a nudge is a note to the agent, hand on takes the task back for another
    agent, cancel stops it; a stranded task can be cancelled; each refused elsewhere."""
    await service.tasks.create(TaskSpec("Fix the build", agent="Agent-1"), "cli")
    await service.tasks.create(TaskSpec("Write the docs", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    one, two = await service.tasks.get(1), await service.tasks.get(2)
    assert one.agent is not None and two.agent is not None
    await service.store.write("watch", alerts.open_alert, one.agent, alerts.STALLED, "stalled", 1)
    limit = Observation(
        two.agent, Signal.TEXT, AgentState.LIMITED, clock.now(), "usage limit", until=9e12
    )
    await service.store.update(agent_signals.record, limit)
    found = {n.kind: n for n in await service.inbox.needs()}
    assert found["alert"].actions == ("handon", "reassign", "nudge", "cancel")
    assert found["holding"].actions == ("handon", "reassign", "nudge", "cancel")
    nudged = await service.inbox.act("A-1", "nudge", "discord:boss")
    assert nudged.text == f"A-1: {one.agent} nudged about T-1"
    note = (await service.messages.deliveries(nudged.detail["message"]))[0]
    assert note.agent == one.agent and note.text.startswith("discord:boss asks how T-1 is going")
    handed = await service.inbox.act("T-2", "handon", "web:eve")
    assert handed.text == f"T-2: T-2 taken from {two.agent}, queued for another agent"
    assert (await service.tasks.get(2)).status is TaskStatus.ready
    cancelled = await service.inbox.act("A-1", "cancel", "cli:boss")
    assert cancelled.text == "A-1: T-1 cancelled"
    assert (await service.tasks.get(1)).status is TaskStatus.cancelled
    assert [n.kind for n in await service.inbox.needs()] == ["alert"]  # clears itself; no task now
    assert (await service.inbox.needs())[0].actions == ()
    with pytest.raises(
        InvalidInput, match=r"A-1 \(alert\) takes no action: it clears itself, not nudge"
    ):
        await service.inbox.act("A-1", "nudge", "cli:boss")
    with pytest.raises(PersonOnly):
        await service.inbox.act("A-1", "nudge", "Agent-1")


async def test_reassign_gives_a_stranded_or_held_task_to_the_agent_picked(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """Issue 41, item 1: Reassign lets the person pick another agent for a stranded task, a
    limited agent's task or a stalled agent's; a person's action only, refused in one line
    without an agent, to the holder itself, or to an agent not configured."""
    await service.tasks.create(TaskSpec("Load the data", role="data"), "cli")
    await service.tasks.create(TaskSpec("Fix the build", agent="Agent-1"), "cli")
    await service.tasks.create(TaskSpec("Write the docs", agent="Agent-3"), "cli")
    kept = [a for a in service.agents.values() if a.id != "Agent-5"]  # the data agent left
    await service.replace_agents(kept, tmp_path / "agents.toml")
    await service.queue.assign_batch()
    limit = Observation(
        "Agent-1", Signal.TEXT, AgentState.LIMITED, clock.now(), "usage limit", until=9e12
    )
    await service.store.update(agent_signals.record, limit)
    await service.store.write("watch", alerts.open_alert, "Agent-3", alerts.STALLED, "stalled", 1)
    found = {n.ref: n for n in await service.inbox.needs()}
    assert found["T-1"].actions == ("reassign", "cancel")  # stranded
    with pytest.raises(PersonOnly):
        await service.inbox.act("T-1", "reassign", "Agent-2", "Agent-2")
    with pytest.raises(InvalidInput, match=r"reassign names the agent to give the task to"):
        await service.inbox.act("T-1", "reassign", "cli:boss")
    with pytest.raises(InvalidInput, match=r"only reassign takes an agent"):
        await service.inbox.act("T-1", "cancel", "cli:boss", "Agent-2")
    with pytest.raises(NotFound, match="Agent-99"):
        await service.inbox.act("T-1", "reassign", "cli:boss", "Agent-99")
    with pytest.raises(InvalidInput, match="T-2: Agent-1 already holds it: pick another agent"):
        await service.inbox.act("T-2", "reassign", "cli:boss", "agent-1")
    stranded = await service.inbox.act("T-1", "reassign", "cli:boss", "agent-2")
    assert stranded.text == "T-1: T-1 reassigned to Agent-2"
    assert stranded.detail == {"tasks": ["T-1"], "agent": "Agent-2"}
    held = await service.inbox.act("T-2", "reassign", "web:eve", "Agent-4")
    assert held.text == "T-2: T-2 reassigned from Agent-1 to Agent-4"
    alert = next(n.ref for n in await service.inbox.needs() if n.kind == "alert")
    stalled = await service.inbox.act(alert, "reassign", "discord:boss", "Agent-6")
    assert stalled.text == f"{alert}: T-3 reassigned from Agent-3 to Agent-6"
    await service.queue.assign_batch()
    given = {t.id: t.agent for t in await service.tasks.newest()}
    assert given == {1: "Agent-2", 2: "Agent-4", 3: "Agent-6"}
    assert [n.kind for n in await service.inbox.needs()] == ["alert"]  # no task left to act on
    pinned = await service.history.find(EventFilter(kinds=("task.pinned",)))
    assert [e.text for e in pinned][-3:] == [
        "T-1 given to Agent-2 by cli:boss",
        "T-2 given to Agent-4 by web:eve",
        "T-3 given to Agent-6 by discord:boss",
    ]


async def test_a_ready_task_only_limited_agents_can_take_is_listed_until_the_reset(
    service: SwarmService, clock: ManualClock
) -> None:
    """Issue 41's replayed day: a ready task pinned to a limited agent, or of a role only
    limited agents have, waited for the reset without a word (not held, so not "holding";
    its agent configured, so not "stranded")."""
    pinned = await service.tasks.create(TaskSpec("Fix the lexer", agent="Agent-1"), "cli")
    data = await service.tasks.create(TaskSpec("Load the data", role="data"), "cli")
    assert await service.inbox.needs() == []
    for agent, hours in (("Agent-1", 1), ("Agent-5", 2)):
        until = clock.now() + hours * 3600
        limit = Observation(
            agent, Signal.TEXT, AgentState.LIMITED, clock.now(), "text: limit", until=until
        )
        await service.store.update(agent_signals.record, limit)
    found = {n.ref: n for n in await service.inbox.needs()}
    assert set(found) == {pinned.ref, data.ref}
    assert found[pinned.ref].kind == "stranded" and found[pinned.ref].actions == (
        "reassign",
        "cancel",
    )
    assert "waits for Agent-1, which is limited until " in found[pinned.ref].text
    assert "waits for a 'data' agent: Agent-5 is limited until " in found[data.ref].text
    await service.inbox.act(pinned.ref, "reassign", "boss", agent="Agent-2")  # in place
    assert (await service.tasks.get(pinned.id)).pinned == "Agent-2"
    clock.advance(2 * 3600 + 1)  # both limits are over: nothing waits on them
    assert await service.inbox.needs() == []
