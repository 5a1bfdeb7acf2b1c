"""How Slack shows the notifier's items: a message's fallback text and its Block Kit blocks
(sections, a context line, buttons). Every text of an agent, a task or a person is escaped
and bounded (``bot.slack.text``); each button's ``action_id`` names what it does and to
what (``swarm:<action>:<ref>[:<option>]``), so a press is understood after a restart."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.discordbot.cards import STATE_ICONS, state_words  # no discord: shared words
from bot.slack import text as mrkdwn
from core.coordinator.front_end import (
    AlertPost,
    CiPost,
    GatePost,
    Item,
    Lines,
    LongText,
    MessageLine,
    PromptPost,
    TaskCard,
    ThreadLine,
)
from core.dialogs.permissions import Prompt
from core.event_kinds import event_text
from core.inbox.needs import Need, prompt_ref
from core.models import ACTIVE, Task, TaskStatus, task_ref
from core.tasks import TaskAction, allowed

Json = dict[str, Any]
MAX_BUTTONS = 25  # an actions block's elements
MAX_OPTIONS = 100  # a select menu's options
CARD_BUTTONS = (TaskAction.done, TaskAction.reassign, TaskAction.retry)
LABELS = {  # a "Needs you" action → its button's word, its style
    "approve": ("Approve", "primary"),
    "reject": ("Reject", "danger"),
    "retry": ("Retry", None),
    "dismiss": ("Dismiss", None),
    "handon": ("Hand on", "primary"),
    "nudge": ("Nudge", None),
    "cancel": ("Cancel", "danger"),
    "accept": ("Accept as done", "primary"),
    "fail": ("Fail", "danger"),
    "done": ("Done", "primary"),
    "reassign": ("Reassign", None),
}


@dataclass(frozen=True)
class Rendered:
    """A message: its fallback text (notifications) and its blocks."""

    text: str
    blocks: list[Json] = field(default_factory=list)

    @property
    def shown(self) -> str:
        """Everything it shows, to skip an edit that changes nothing."""
        return self.text + "|" + json.dumps(self.blocks, sort_keys=True, ensure_ascii=False)


def section(text: str, block_id: str | None = None) -> Json:
    """A section of mrkdwn (already escaped and bounded)."""
    found: Json = {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}}
    return found | ({"block_id": block_id} if block_id else {})


def context(text: str) -> Json:
    """A small grey line (already escaped and bounded)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text or " "}]}


def button(action: str, ref: str, label: str, style: str | None = None, option: int = -1) -> Json:
    """A button: ``action`` on ``ref`` (``option``: a prompt's, by its index)."""
    action_id = f"swarm:{action}:{ref}" + (f":{option}" if option >= 0 else "")
    found: Json = {
        "type": "button",
        "action_id": action_id,
        "value": action_id,
        "text": {"type": "plain_text", "text": mrkdwn.label(label)},
    }
    return found | ({"style": style} if style else {})


def actions(ref: str, buttons: list[Json]) -> list[Json]:
    """An actions block of ``buttons`` (at most 25) with ``ref`` as its id; none if empty."""
    if not buttons:
        return []
    return [{"type": "actions", "block_id": ref, "elements": buttons[:MAX_BUTTONS]}]


def plain(text: str) -> Rendered:
    """A message of one section of ``text`` (escaped, bounded)."""
    body = mrkdwn.block(text)
    return Rendered(body, [section(body)])


def task_line(task: Task, note: str | None = None) -> str:
    """``🔨 *T-3* · Title — in progress (Agent-2): note`` (escaped)."""
    rest = mrkdwn.line(f"{task.title} — {state_words(task, note)}", 2900)
    return f"{STATE_ICONS[task.status]} *{task.ref}* · {rest}"


def card(item: TaskCard) -> Rendered:
    """A task's live message: its state, its open question (answered by a reply in the
    message's thread), its agent's latest activity, its buttons."""
    task, question = item.task, item.question
    head = task_line(task, item.note)
    blocks = [section(head, "card")]
    if question is not None and task.status in ACTIVE:
        asked = mrkdwn.block(f"{question.asked_by} asks: {question.text}", 2900)
        blocks.append(section(f"❓ {asked}"))
        blocks.append(context("Reply in this message's thread to answer (admins)."))
    if item.activity and task.status is TaskStatus.in_progress:
        blocks.append(context("↳ " + mrkdwn.line(item.activity, 300)))
    permitted = allowed(task)
    buttons = [
        button(a.value, task.ref, LABELS[a.value][0], LABELS[a.value][1])
        for a in CARD_BUTTONS
        if a in permitted
    ]
    return Rendered(head, blocks + actions(f"card:{task.ref}", buttons))


def prompt(item: Prompt) -> Rendered:
    """A permission request: who asks, its text as quoted material, a button per option
    (the agent's own labels) while open; then who chose what, or how it closed."""
    ref = prompt_ref(item.id)
    on = f" on {task_ref(item.task_id)}" if item.task_id is not None else ""
    if item.decided_at is not None:
        chosen = next((o.label for o in item.options if o.key == item.decision), "")
        head = (
            f"✅ {ref} · {item.agent}{on}: {item.decision}, {chosen!r} chosen by {item.decided_by}"
        )
    elif item.closed_at is not None:
        head = f"⌛ {ref} · {item.agent}{on}: closed without a decision ({item.closed_why})"
    else:
        head = f"✋ {ref} · {item.agent}{on} asks ({item.source.value}); an admin chooses:"
    head = mrkdwn.line(head, 300)
    body = mrkdwn.fenced(item.text, 2900, f": all of it with swarm inbox show {ref}")
    blocks = [section(head), section(body)]
    if item.open:
        count = min(len(item.options), MAX_BUTTONS)
        buttons = [
            button("option", ref, o.label or str(i + 1), _style(i, count), option=i)
            for i, o in enumerate(item.options[:MAX_BUTTONS])
        ]
        blocks += actions(ref, buttons)
    return Rendered(head, blocks)


def _style(index: int, count: int) -> str | None:
    return "primary" if index == 0 else "danger" if index == count - 1 and count > 1 else None


def gate(item: GatePost) -> Rendered:
    """A gate that waits: Approve and Reject."""
    ref = item.task.ref
    head = mrkdwn.line(f"⛩️ {ref} waits for an admin's approval: {item.task.title}", 2900)
    if item.decided is not None:  # decided here or elsewhere: said, its buttons gone
        said = mrkdwn.line(f"{head} {item.decided}", 2990)
        return Rendered(said, [section(said)])
    buttons = [button("approve", ref, f"Approve {ref}", "primary")]
    buttons.append(button("reject", ref, f"Reject {ref}", "danger"))
    return Rendered(head, [section(head), *actions(ref, buttons)])


def need_buttons(need: Need) -> list[Json]:
    """The buttons of a "Needs you" item (a prompt: its options; Reassign: a menu of the
    agents follows, ``agent_menu``; a reply and a budget are answered otherwise: a thread
    reply, ``/swarm budget``)."""
    if need.kind == "prompt":
        count = min(len(need.options), MAX_BUTTONS)
        return (
            [
                button("option", need.ref, o.label or str(i + 1), _style(i, count), option=i)
                for i, o in enumerate(need.options[:MAX_BUTTONS])
            ]
            if need.actions
            else []
        )
    return [
        button(a, need.ref, f"{LABELS[a][0]} {need.ref}", LABELS[a][1])
        for a in need.actions
        if a in LABELS
    ]


def agent_menu(ref: str, agents: list[str]) -> list[Json]:
    """``Reassign <ref> to:`` and a select menu of ``agents`` (``swarm:assign:<ref>``)."""
    options = [
        {"text": {"type": "plain_text", "text": mrkdwn.label(a)}, "value": a}
        for a in agents[:MAX_OPTIONS]
    ]
    menu = {
        "type": "static_select",
        "action_id": f"swarm:assign:{ref}",
        "placeholder": {"type": "plain_text", "text": "agent"},
        "options": options,
    }
    return [section(f"Reassign *{mrkdwn.line(ref, 40)}* to:"), *actions(ref, [menu])]


def alert(item: AlertPost) -> Rendered:
    """An alert's line; an open one with its "Needs you" buttons."""
    head = mrkdwn.block(event_text(item.event))
    buttons = need_buttons(item.need) if item.need is not None else []
    ref = item.need.ref if item.need is not None else "alert"
    return Rendered(head, [section(head), *actions(ref, buttons)])


def ci(item: CiPost) -> Rendered:
    """A PR whose CI failed past its retries (decided from Discord, the CLI or the
    dashboard: ``swarm github ...``)."""
    ref = task_ref(item.task_id)
    if item.decided is not None:
        head = f"✅ {item.decided.text}"
    else:
        pr, retries = item.data.get("pr"), item.data.get("retries")
        head = f"🛑 {ref} · PR #{pr}: CI failed past {retries} retries"
    tail = str(item.data.get("tail") or "(no log)")[-1500:]
    head = mrkdwn.line(head, 400)
    return Rendered(head, [section(head), section(mrkdwn.fenced(tail, 2000))])


def rendered(item: Item) -> Rendered:
    """The message of ``item``."""
    if isinstance(item, TaskCard):
        return card(item)
    if isinstance(item, PromptPost):
        return prompt(item.prompt)
    if isinstance(item, GatePost):
        return gate(item)
    if isinstance(item, AlertPost):
        return alert(item)
    if isinstance(item, CiPost):
        return ci(item)
    if isinstance(item, ThreadLine):
        return plain(event_text(item.event))
    if isinstance(item, Lines):
        return plain("\n".join(event_text(e) for e in item.events))
    if isinstance(item, LongText):
        return plain(item.text)
    assert isinstance(item, MessageLine)
    done = item.progress
    failed = f", {done.failed} failed" if done.failed else ""
    return plain(f"📣 {item.headline} — delivered {done.delivered}/{done.total}{failed}")
