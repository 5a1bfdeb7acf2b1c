"""``/swarm``: the commands a person uses from a phone, each the operation the Discord
command and the CLI run. Reading (``tasks``, ``show``, ``inbox``, ``agents``, ``help``) is
for anyone in the channel; deciding (``task``, ``stop``, ``pause``, ``resume``,
``approve``, ``reject``, ``reassign``, ``budget``, ``send``, ``broadcast``) for admins only.
The answer is the command's ack: shown to the person alone, but ``inbox``'s (its buttons
are the channel's) and ``pause``'s. The text comes as Slack sends it (``&lt;`` for
``<``): unescaped here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from automation.turn_stop import stop_and_record
from bot.slack import text as mrkdwn
from bot.slack.access import REFUSAL, Person, may_decide
from bot.slack.context import Slack
from bot.slack.render import Json, actions, agent_menu, need_buttons, section, task_line
from core.errors import SwarmError
from core.formats.text import flat, one_line, shorten
from core.models import TaskSpec

USAGE = (
    "/swarm task <title> · tasks · show <T-3> · inbox · agents · stop <agent> · "
    "pause [reason] · resume · approve <ref> [option] · reject <ref> · "
    "reassign <ref> [agent] · budget <ref> <dollars> · send <agent> <text> · broadcast <text>"
)
MAX_LINES = 20  # tasks and agents listed
MAX_NEEDS = 10  # inbox items shown with their buttons (a message holds 50 blocks)


@dataclass(frozen=True)
class Answer:
    """What a command answers: text (mrkdwn, escaped), blocks, and whether the channel sees
    it (``in_channel``) or only the person."""

    text: str
    blocks: list[Json] = field(default_factory=list)
    in_channel: bool = False

    def ack(self) -> dict[str, Any]:
        """The ack's payload."""
        found: dict[str, Any] = {"text": self.text}
        if self.blocks:
            found["blocks"] = self.blocks
        if self.in_channel:
            found["response_type"] = "in_channel"
        return found


Command = Callable[[Slack, Person, str], Awaitable[Answer]]


async def answer(slack: Slack, payload: dict[str, Any]) -> Answer:
    """The answer to ``/swarm <text>`` run by ``payload``'s user in its channel."""
    if payload.get("channel_id") != slack.channel_id:
        return Answer(f"swarm answers in <#{slack.channel_id}> only.")
    person = Person(str(payload.get("user_id", "")), str(payload.get("user_name") or ""))
    name, _, rest = mrkdwn.unescaped(str(payload.get("text") or "")).strip().partition(" ")
    name = name.lower()
    if name in DECIDING:
        if not await may_decide(slack.service, slack.settings, person, f"/swarm {name}"):
            return Answer(REFUSAL)
        run = DECIDING[name]
    else:
        run = READING.get(name, usage)
    try:
        return await run(slack, person, rest.strip())
    except SwarmError as exc:
        return Answer(f"⚠️ {mrkdwn.line(str(exc), 500)}")


async def usage(slack: Slack, person: Person, rest: str) -> Answer:
    """What ``/swarm`` takes."""
    return Answer(mrkdwn.line(USAGE))


async def create(slack: Slack, person: Person, rest: str) -> Answer:
    """``task <title>``: a new task; its card follows in the channel."""
    if not rest:
        return Answer("Give the task a title: /swarm task <title>")
    task = await slack.service.tasks.create(TaskSpec(title=rest), person.actor)
    return Answer(f"🆕 *{task.ref}* created: its card follows")


async def tasks(slack: Slack, person: Person, rest: str) -> Answer:
    """``tasks``: the open tasks, newest first."""
    found = await slack.service.tasks.newest(open_only=True, limit=MAX_LINES)
    if not found:
        return Answer("No open tasks.")
    return Answer("\n".join(task_line(t) for t in found))


async def show(slack: Slack, person: Person, rest: str) -> Answer:
    """``show T-3``: the task and its latest events."""
    task = await slack.service.tasks.get(rest or "?")
    events = await slack.service.history.events(task=task.id, limit=10)
    lines = [task_line(task)]
    lines += [mrkdwn.line(f"· {e.kind}: {e.text}", 300) for e in events]
    if task.details:
        lines.append(mrkdwn.block(task.details, 1500))
    return Answer("\n".join(lines))


async def inbox(slack: Slack, person: Person, rest: str) -> Answer:
    """``inbox``: what needs a person, oldest first, each with its buttons (in the channel:
    the buttons are the channel's)."""
    found = await slack.service.inbox.needs()
    if not found:
        return Answer("✅ nothing needs you")
    head = f"✋ {len(found)} item(s) need you, oldest first:"
    blocks: list[Json] = [section(head)]
    for need in found[:MAX_NEEDS]:
        line = mrkdwn.line(f"{need.kind} · {need.concerns}: {flat(need.text)}", 600)
        blocks.append(section(f"*{need.ref}* {line}"))
        blocks += actions(need.ref, need_buttons(need))
    if len(found) > MAX_NEEDS:
        blocks.append(
            section(f"… and {len(found) - MAX_NEEDS} more: swarm inbox, or the dashboard")
        )
    return Answer(head, blocks, in_channel=True)


async def agents(slack: Slack, person: Person, rest: str) -> Answer:
    """``agents``: each agent's state and task."""
    rows = await slack.service.roster.rows()
    lines = [
        mrkdwn.line(
            f"{r['id']} ({r['role']}): {r['state']}"
            + (", paused" if r.get("paused") else "")
            + (f" · {', '.join(r['tasks'])}" if r.get("tasks") else ""),
            300,
        )
        for r in rows[:MAX_LINES]
    ]
    return Answer("\n".join(lines) or "No agents configured.")


async def stop(slack: Slack, person: Person, rest: str) -> Answer:
    """``stop <agent>``: its running turn stopped now; its task stays."""
    agent, stopped = await stop_and_record(slack.service, rest, person.actor, on_coordinator=True)
    said = mrkdwn.line(f"{agent.id}: {stopped.said}")
    return Answer(f"⏹️ {said}" if stopped.done else said)


async def pause(slack: Slack, person: Person, rest: str) -> Answer:
    """``pause [reason]``: the kill switch."""
    await slack.service.pause_input(person.actor, rest)
    return Answer("⏸️ desktop input paused", in_channel=True)


async def resume(slack: Slack, person: Person, rest: str) -> Answer:
    """``resume``: the kill switch released."""
    released = await slack.service.resume_input(person.actor)
    return Answer("▶️ desktop input resumed" if released else "desktop input was not paused")


async def send(slack: Slack, person: Person, rest: str) -> Answer:
    """``send <agent> <text>``: a message to one agent."""
    agent, _, text = rest.partition(" ")
    await slack.service.messages.send(agent, text.strip(), person.actor)
    return Answer(f"📨 queued for {mrkdwn.line(slack.service.resolve_agent(agent).id, 100)}")


async def broadcast(slack: Slack, person: Person, rest: str) -> Answer:
    """``broadcast <text>``: a message to every agent."""
    message_id = await slack.service.messages.broadcast(rest, person.actor)
    count = len(await slack.service.messages.deliveries(message_id))
    return Answer(f"📣 queued for {count} agent(s)")


async def approve(slack: Slack, person: Person, rest: str) -> Answer:
    """``approve <ref> [option]``: a gate, a plan, a held item, or a prompt's narrowest
    allowing option (or the option named)."""
    ref, _, option = rest.partition(" ")
    done = await slack.service.inbox.approve(ref.upper(), person.actor, option.strip() or None)
    return Answer(f"✅ {mrkdwn.line(one_line(done.text))}")


async def reject(slack: Slack, person: Person, rest: str) -> Answer:
    """``reject <ref>``: a gate, a plan, a held item, or a prompt's rejecting option."""
    done = await slack.service.inbox.reject(rest.split(" ")[0].upper(), person.actor)
    return Answer(f"🛑 {mrkdwn.line(one_line(done.text))}")


async def reassign(slack: Slack, person: Person, rest: str) -> Answer:
    """``reassign <ref> <agent>``: the item's task (a stalled or limited agent's, a stranded
    one) to that agent; without the agent, a menu of them."""
    ref, _, agent = rest.partition(" ")
    if not ref:
        return Answer("Give the item: /swarm reassign A-3 <agent> (see /swarm inbox)")
    if not agent.strip():
        need = await slack.service.inbox.item(ref.upper())
        others = [a for a in slack.service.agents if a != need.agent]
        return Answer(f"Reassign {ref.upper()} to:", agent_menu(ref.upper(), others))
    done = await slack.service.inbox.act(ref.upper(), "reassign", person.actor, agent.strip())
    return Answer(f"✅ {mrkdwn.line(one_line(done.text))}")


async def budget(slack: Slack, person: Person, rest: str) -> Answer:
    """``budget <ref> <dollars>``: a task's or a campaign's spent budget raised."""
    ref, _, typed = rest.partition(" ")
    amount = typed.strip().removeprefix("$").replace(",", "")
    try:
        dollars = float(amount)
    except ValueError:
        shown = mrkdwn.line(repr(shorten(typed.strip(), 40)), 100)
        return Answer(f"⚠️ {shown} is not a number of dollars: /swarm budget B-2 25")
    done = await slack.service.inbox.act(ref.upper(), "raise", person.actor, dollars=dollars)
    return Answer(f"✅ {mrkdwn.line(one_line(done.text))}")


READING: dict[str, Command] = {
    "tasks": tasks,
    "show": show,
    "inbox": inbox,
    "agents": agents,
    "help": usage,
}
DECIDING: dict[str, Command] = {
    "task": create,
    "stop": stop,
    "pause": pause,
    "resume": resume,
    "approve": approve,
    "reject": reject,
    "reassign": reassign,
    "budget": budget,
    "send": send,
    "broadcast": broadcast,
}
