"""How Telegram shows the notifier's items: a message in the HTML parse mode and its inline
buttons (no telegram import: ``front_end`` turns a ``Shown`` into a request). Every piece of
text from an agent, an issue or a person goes through ``markup.quoted``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.discordbot.cards import STATE_ICONS, card_actions
from bot.telegram.callbacks import (
    CI_ACTIONS,
    NEED_ACTIONS,
    agent_press,
    ci_press,
    gate_press,
    need_press,
    option_press,
    task_press,
)
from bot.telegram.markup import bounded, label, quoted, quoted_cut
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
from core.event_kinds import EventKind, event_text
from core.formats.timetext import utc_text
from core.github.links import CI_ACTIONS as CI_WORDS
from core.inbox.needs import Need, prompt_ref
from core.models import ACTIVE, Task, TaskStatus, task_ref
from core.questions import Question

PROMPT_TEXT_LIMIT = 3000  # characters of a prompt's text in its message (the rest: inbox show)
MAX_OPTIONS = 20  # a prompt's options as buttons
Row = tuple[tuple[str, str], ...]  # (label, callback_data) per button
CARD_LABELS = {"done": "Done", "retry": "Retry", "reassign": "Reassign"}
NEED_LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "retry": "Retry",
    "dismiss": "Dismiss",
    "handon": "Hand on",
    "nudge": "Nudge",
    "cancel": "Cancel",
    "accept": "Accept as done",
    "fail": "Fail",
    "reassign": "Reassign",
    "allow": "Allow host",
    "deny": "Deny host",
}
AGENTS_PER_ROW = 3


@dataclass(frozen=True)
class Shown:
    """A message: its HTML text and its rows of buttons."""

    html: str
    rows: tuple[Row, ...] = ()

    @property
    def key(self) -> str:
        """What it shows, to skip an edit that changes nothing."""
        buttons = ",".join(data for row in self.rows for _, data in row)
        return f"{self.html}|{buttons}"


def shown(item: Item) -> Shown:
    """The message of ``item``."""
    if isinstance(item, TaskCard):
        return Shown(bounded(card_html(item)), card_rows(item.task))
    if isinstance(item, PromptPost):
        return prompt_shown(item.prompt)
    if isinstance(item, GatePost):
        return gate_shown(item.task, item.campaign_id, item.decided)
    if isinstance(item, CiPost):
        return ci_shown(item)
    if isinstance(item, AlertPost):
        return alert_shown(item)
    return Shown(bounded(quoted(plain_text(item))))


def plain_text(item: ThreadLine | Lines | LongText | MessageLine) -> str:
    """The text of a line, lines, a long text or a message's progress."""
    if isinstance(item, ThreadLine):
        return event_text(item.event)
    if isinstance(item, Lines):
        return "\n".join(event_text(e) for e in item.events)
    if isinstance(item, LongText):
        return item.text
    failed = f", {item.progress.failed} failed" if item.progress.failed else ""
    progress = f"delivered {item.progress.delivered}/{item.progress.total}{failed}"
    return f"📣 {item.headline} — {progress}"


def card_html(card: TaskCard) -> str:
    """``🔨 <b>T-3</b> · title — in progress (Agent-2): note``; an open question says who
    asked it and that a reply to this message answers it; the agent's activity below."""
    task = card.task
    icon, state = STATE_ICONS[task.status], task_state(task, card.note)
    if card.question is not None and task.status in ACTIVE:
        icon, state = "❓", question_state(card.question)
    line = f"{icon} <b>{task.ref}</b> · {quoted(task.title, 300)} — {state}"
    if card.question is not None and task.status in ACTIVE:
        line += "\n<i>reply to this message to answer it</i>"
    if card.activity and task.status is TaskStatus.in_progress:
        line += f"\n↳ <code>{quoted(' '.join(card.activity.split()), 180)}</code>"
    return line


def task_state(task: Task, note: str | None) -> str:
    """Where a task stands, in words (escaped)."""
    if task.status is TaskStatus.assigned:
        return f"assigned to {quoted(task.agent or '?')}"
    if task.status is TaskStatus.in_progress:
        said = f": {quoted(note, 1500)}" if note else ""
        return f"in progress ({quoted(task.agent or '?')}){said}"
    if task.status is TaskStatus.done:
        said = f": {quoted(task.note, 1500)}" if task.note else ""
        return f"done by {quoted(task.agent or '?')}{said}"
    if task.status is TaskStatus.failed:
        by = f" ({quoted(task.agent)})" if task.agent else ""
        return f"failed{by}: {quoted(task.reason or '', 1500)}"
    state = task.status.value + (f": {quoted(task.reason, 1500)}" if task.reason else "")
    if task.pinned and task.status is TaskStatus.ready:
        state += f" (for {quoted(task.pinned)})"
    return state


def question_state(question: Question) -> str:
    """An open question on a card."""
    asked = utc_text(question.asked_at, "%H:%M UTC")
    return (
        f"waiting for an answer: {quoted(question.asked_by)} asked at {asked}: "
        f"{quoted(question.text, 1500)}"
    )


def card_rows(task: Task) -> tuple[Row, ...]:
    """The card's buttons in the task's state (Done, Reassign while active; Retry after)."""
    actions = card_actions(task)
    row = tuple((CARD_LABELS[a], task_press(a, task.id).data) for a in actions)
    return (row,) if row else ()


def prompt_shown(prompt: Prompt) -> Shown:
    """Who asks, where from, the prompt's text (preformatted), a button per option while it
    is open; once decided, who chose what; once closed, why."""
    ref = prompt_ref(prompt.id)
    on = f" on {task_ref(prompt.task_id)}" if prompt.task_id is not None else ""
    who = f"{quoted(prompt.agent)}{on}"
    if prompt.decided_at is not None:
        chosen = next((o.label for o in prompt.options if o.key == prompt.decision), "")
        head = (
            f"✅ <b>{ref}</b> · {who}: {quoted(prompt.decision or '')}. "
            f"{quoted(repr(chosen), 200)} chosen by {quoted(prompt.decided_by or '?')}"
        )
    elif prompt.closed_at is not None:
        why = quoted(prompt.closed_why or "")
        head = f"⌛ <b>{ref}</b> · {who}: closed without a decision ({why})"
    else:
        head = f"✋ <b>{ref}</b> · {who} asks ({prompt.source.value}); an admin chooses:"
    more = f": all of it with swarm inbox show {ref}"
    body = f"<pre>{quoted_cut(prompt.text, PROMPT_TEXT_LIMIT, more) or ' '}</pre>"
    rows: tuple[Row, ...] = ()
    if prompt.open:
        options = prompt.options[:MAX_OPTIONS]
        rows = tuple(
            ((label(o.label) or str(i + 1), option_press(prompt.id, i).data),)
            for i, o in enumerate(options)
        )
    return Shown(bounded(f"{head}\n{body}"), rows)


def gate_shown(task: Task, campaign_id: int | None, decided: str | None = None) -> Shown:
    """A gate that waits: ``✋ T-4 waits for approval (C-1): title``, Approve and Reject;
    once ``decided`` (``approved by cli``): said, no buttons."""
    where = f" (C-{campaign_id})" if campaign_id is not None else ""
    head = f"✋ <b>{task.ref}</b> waits for approval{where}: {quoted(task.title, 300)}"
    if decided is not None:
        return Shown(f"{head}\n{quoted(decided, 200)}", ())
    row = (
        (f"Approve {task.ref}", gate_press("approve", task.id).data),
        (f"Reject {task.ref}", gate_press("reject", task.id).data),
    )
    return Shown(head, (row,))


def ci_shown(item: CiPost) -> Shown:
    """A PR whose CI failed past its retries: the check, the log's tail; the choice."""
    data, ref = item.data, task_ref(item.task_id)
    pr = f"PR #{quoted(str(data.get('pr')))} (issue #{quoted(str(data.get('issue')))})"
    check = quoted(str(data.get("check") or "CI"), 100)
    if item.decided is None:
        head = (
            f"🛑 <b>{ref}</b> · {pr}: CI failed past {quoted(str(data.get('retries')))} "
            f"retries (check {check}); an admin chooses:"
        )
    else:
        head = f"✅ {quoted(item.decided.text)}"
    tail = str(data.get("tail") or "(no log)")[-1200:]
    rows: tuple[Row, ...] = ()
    if item.decided is None:
        rows = (
            tuple((CI_WORDS[a].capitalize(), ci_press(a, item.task_id).data) for a in CI_ACTIONS),
        )
    return Shown(bounded(f"{head}\n<pre>{quoted(tail)}</pre>"), rows)


def alert_shown(item: AlertPost) -> Shown:
    """An alert's line; an opened one with its "Needs you" actions while open."""
    text = quoted(event_text(item.event))
    if item.event.kind != EventKind.ALERT_OPENED or item.need is None:
        return Shown(text)
    return Shown(bounded(text), need_rows(item.need))


def need_rows(need: Need) -> tuple[Row, ...]:
    """One row of buttons for an inbox item: a prompt's options, else the actions a button
    can take (a reply: to the task's message; Reassign: a keyboard of the agents follows;
    a budget: ``/budget``)."""
    if need.kind == "prompt":
        if not need.actions:
            return ()
        row = tuple(
            (label(f"{need.ref}: {o.label}"), need_press("option", need.ref, i).data)
            for i, o in enumerate(need.options[:5])
        )
        return (row,)
    row = tuple(
        (f"{NEED_LABELS[a]} {need.ref}", need_press(a, need.ref).data)
        for a in need.actions
        if a in NEED_ACTIONS and a in NEED_LABELS
    )
    return (row,) if row else ()


def agent_rows(ref: str, agents: list[str]) -> tuple[Row, ...]:
    """A keyboard of ``agents``, a button each that reassigns ``ref``'s task to it (an agent
    whose id is too long for a button's data left out: ``/reassign`` names it)."""
    presses = [p for p in (agent_press(ref, a) for a in agents) if p is not None]
    buttons = [(label(p.agent), p.data) for p in presses]
    return tuple(
        tuple(buttons[i : i + AGENTS_PER_ROW]) for i in range(0, len(buttons), AGENTS_PER_ROW)
    )
