"""What a person does in the channel: a button pressed (a task's Done / Retry / Reassign, a
prompt's option, a gate's or a held item's Approve / Reject, an alert's or an unreported
turn's action) and a reply in a card's thread (the answer to the task's open question).
Each calls the operation the Discord buttons and the CLI call; only admins decide. A
decision edits the pressed message: its buttons go, what was done and by whom is shown (a
prompt's and a card's message are the notifier's: it edits them as the decision's event
comes, as it does for a decision made elsewhere)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.slack import text as mrkdwn
from bot.slack.access import Person
from bot.slack.context import Slack
from bot.slack.front_end import FRONT_END
from bot.slack.render import agent_menu, context
from core.coordinator.urgent_posts import gate_key, prompt_key
from core.errors import NotFound, SwarmError
from core.formats.text import one_line
from core.models import task_ref

log = logging.getLogger(__name__)
Json = dict[str, Any]
PERSONS_REPLY = (None, "thread_broadcast")  # a reply, or one "also sent to the channel"


@dataclass(frozen=True)
class Press:
    """A button: ``swarm:<action>:<ref>[:<option>]``; ``card``: on a task's card;
    ``chosen``: a select menu's option (``swarm:assign:<ref>``: the agent)."""

    action: str
    ref: str
    option: int
    card: bool
    chosen: str = ""

    @classmethod
    def parse(cls, action_id: str, block_id: str, chosen: str = "") -> Press | None:
        """The press of ``action_id``; None when it is not swarm's."""
        parts = action_id.split(":")
        if len(parts) not in (3, 4) or parts[0] != "swarm":
            return None
        option = int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else -1
        return cls(parts[1], parts[2], option, block_id.startswith("card:"), chosen)


async def pressed(slack: Slack, body: Json) -> None:
    """A button press in the channel: decided once by an admin, told to the presser."""
    channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id")
    action = (body.get("actions") or [{}])[0]
    chosen = str((action.get("selected_option") or {}).get("value") or "")
    press = Press.parse(str(action.get("action_id", "")), str(action.get("block_id", "")), chosen)
    if channel != slack.channel_id or press is None:
        return
    user = body.get("user") or {}
    person = Person(str(user.get("id", "")), str(user.get("username") or user.get("name") or ""))
    if not await slack.may_decide(person, describe(press)):
        return
    if press.action == "reassign" and not press.card:
        await _agent_menu(slack, person, press.ref)
        return
    try:
        said = await decide(slack, press, person.actor)
    except SwarmError as exc:
        await slack.tell(person, f"⚠️ {one_line(str(exc))}")
        return
    await slack.tell(person, f"✅ {said}")
    if not press.card and body.get("message") and not await _notifiers(slack, press, body):
        await _decided(slack, body, press.ref, f"✅ {said} (by {person.actor})")


def describe(press: Press) -> str:
    """What a press does, for the audit: ``button reassign A-2 to Agent-5``."""
    if press.action == "assign":
        return f"button reassign {press.ref} to {press.chosen}"
    return f"button {press.action} {press.ref}"


async def _agent_menu(slack: Slack, person: Person, ref: str) -> None:
    """Reassign: a menu of the agents but the holder, shown to the presser alone; their
    pick reassigns (``assign``)."""
    try:
        need = await slack.service.inbox.item(ref)
    except SwarmError as exc:
        await slack.tell(person, f"⚠️ {one_line(str(exc))}")
        return
    others = [a for a in slack.service.agents if a != need.agent]
    await slack.show(person, f"Reassign {ref} to:", agent_menu(ref, others))


async def decide(slack: Slack, press: Press, actor: str) -> str:
    """Do what ``press`` says, as the Discord buttons do; one line of what was done."""
    service = slack.service
    if press.card:
        if press.action == "done":
            await service.tasks.complete(press.ref, actor, "marked done from Slack")
        elif press.action == "retry":
            await service.tasks.retry(press.ref, actor)
        elif press.action == "reassign":
            await service.tasks.requeue(press.ref, actor)
        else:
            raise NotFound(f"no action {press.action!r} on a card")
        task = await service.tasks.get(press.ref)
        return f"{task.ref} is now {task.status.value}"
    if press.action == "option":
        prompt_id = int(press.ref.partition("-")[2])
        prompt = await service.inbox.prompt(prompt_id)
        if not 0 <= press.option < len(prompt.options):
            raise NotFound(f"{press.ref} has no option {press.option + 1}")
        key = prompt.options[press.option].key
        return (await service.inbox.decide_prompt(prompt_id, key, actor)).text
    if press.action == "assign":
        return (await service.inbox.act(press.ref, "reassign", actor, press.chosen)).text
    if press.action == "approve":
        return (await service.inbox.approve(press.ref, actor)).text
    if press.action == "reject":
        return (await service.inbox.reject(press.ref, actor)).text
    return (await service.inbox.act(press.ref, press.action, actor)).text


async def _notifiers(slack: Slack, press: Press, body: Json) -> bool:
    """True when the pressed message is a prompt's or a gate's post: the notifier edits it
    as the decision's event comes (an edit of ours could land after its and hide it)."""
    number = press.ref[2:]
    if not number.isdigit():
        return False
    if press.ref.startswith("R-"):
        key = prompt_key(int(number))
    elif press.ref.startswith("T-") and press.action in ("approve", "reject"):
        key = gate_key(int(number))
    else:
        return False
    post = await slack.service.posts.post(FRONT_END, key)
    ts = (body.get("message") or {}).get("ts") or body.get("container", {}).get("message_ts")
    return post is not None and post.message_id == ts


async def _decided(slack: Slack, body: Json, ref: str, line: str) -> None:
    """The pressed message with ``ref``'s buttons replaced by what was done."""
    message = body.get("message") or {}
    ts = message.get("ts") or body.get("container", {}).get("message_ts")
    done = context(mrkdwn.line(line, 2900))
    blocks = [done if b.get("block_id") == ref else b for b in message.get("blocks") or []]
    try:
        await slack.client.chat_update(
            channel=slack.channel_id, ts=ts, text=str(message.get("text") or line), blocks=blocks
        )
    except Exception as exc:  # the decision stands; the notifier's edits go on
        log.warning("slack: the decided message %s was not updated: %s", ts, exc)


async def replied(slack: Slack, event: Json) -> None:
    """A person's reply in a card's thread answers the task's open question (admins); a
    message outside the channel, not in a thread, from a bot, an edit or a deletion is
    ignored."""
    thread = event.get("thread_ts")
    if (
        event.get("channel") != slack.channel_id
        or not thread
        or thread == event.get("ts")
        or event.get("bot_id")
        or event.get("subtype") not in PERSONS_REPLY
    ):
        return
    task_id = await slack.service.posts.task_of_thread(FRONT_END, str(thread))
    if task_id is None or await slack.service.questions.open_question(task_id) is None:
        return
    person = Person(str(event.get("user", "")))
    if not await slack.may_decide(person, f"reply {task_ref(task_id)}"):
        return
    text = mrkdwn.unescaped(str(event.get("text", "")))
    try:
        question = await slack.service.inbox.reply(task_ref(task_id), text, person.actor)
    except SwarmError as exc:
        await slack.tell(person, f"⚠️ {one_line(str(exc))}")
        return
    await slack.tell(person, f"✅ answered: queued for {question.agent or 'nobody'}")
