"""How Discord shows the notifier's posts: a task's live card, a message's delivery line, the
lines of a task's thread (plain text, no discord import). What each ``SWARM_NOTIFY`` level
shows is the core's (``core.posts.notify``)."""

from __future__ import annotations

from dataclasses import dataclass

from core.formats.text import one_line, shorten
from core.models import ACTIVE, Task, TaskStatus
from core.posts.queries import Progress
from core.questions import Question
from core.tasks import TaskAction, allowed

STATE_ICONS = {
    TaskStatus.blocked: "⛔",
    TaskStatus.ready: "🆕",
    TaskStatus.assigned: "📨",
    TaskStatus.in_progress: "🔨",
    TaskStatus.done: "✅",
    TaskStatus.failed: "❌",
    TaskStatus.cancelled: "🚫",
    TaskStatus.skipped: "⏭️",
}


def task_card(
    task: Task, note: str | None = None, question: Question | None = None,
    activity: str | None = None,
) -> str:  # fmt: skip
    """``🔨 **T-3** · Title — working (Agent-2): last note``; an open question shows who
    asked it and when (a Discord timestamp: "5 minutes ago", kept current by the client);
    while in progress, a second line with its protocol agent's latest activity."""
    state: str
    icon = STATE_ICONS[task.status]
    if question is not None and task.status in ACTIVE:
        icon, state = (
            "❓",
            (
                f"waiting for an answer: {question.asked_by} asked "
                f"<t:{int(question.asked_at)}:R>: {question.text}"
            ),
        )
    else:
        state = state_words(task, note)
    line = shorten(one_line(f"{icon} **{task.ref}** · {task.title} — {state}"), 1700)
    if activity and task.status is TaskStatus.in_progress:
        line += "\n" + activity_line(activity)
    return line


def state_words(task: Task, note: str | None = None) -> str:
    """Where a task stands, in words (every front end's card): ``in progress (Agent-2):
    note``, ``done by Agent-1: note``, ``failed (Agent-3): reason``, ``ready (for A)``."""
    if task.status is TaskStatus.assigned:
        return f"assigned to {task.agent}"
    if task.status is TaskStatus.in_progress:
        return f"in progress ({task.agent})" + (f": {note}" if note else "")
    if task.status is TaskStatus.done:
        return f"done by {task.agent}" + (f": {task.note}" if task.note else "")
    if task.status is TaskStatus.failed:
        return "failed" + (f" ({task.agent})" if task.agent else "") + f": {task.reason}"
    state = task.status.value + (f": {task.reason}" if task.reason else "")
    pinned = task.pinned and task.status is TaskStatus.ready
    return state + (f" (for {task.pinned})" if pinned else "")


def activity_line(words: str) -> str:
    """The card's status line: the agent's words as one line of inline code (no markdown,
    links or mentions of theirs take effect; the bot allows no mention anyway)."""
    return "↳ `" + shorten(one_line(words).replace("`", "ˋ"), 180) + "`"


CARD_BUTTONS = (TaskAction.done, TaskAction.reassign, TaskAction.retry)  # those a card has


def card_actions(task: Task) -> tuple[str, ...]:
    """The buttons a card carries: those of ``CARD_BUTTONS`` the task's state allows
    (``core.tasks.actions``: Done/Reassign while active, Retry once failed or cancelled)."""
    permitted = allowed(task)
    return tuple(action.value for action in CARD_BUTTONS if action in permitted)


def shown_key(
    task: Task, note: str | None, question: Question | None = None, activity: str | None = None
) -> str:
    """What a card shows (text and buttons), to skip edits that change nothing."""
    return task_card(task, note, question, activity) + "|" + ",".join(card_actions(task))


@dataclass(frozen=True)
class Card:
    """What a task's card shows: the task, the last note while it is worked on, its open
    question, its protocol agent's latest activity (``agent: tool call touch x``)."""

    task: Task
    note: str | None = None
    question: Question | None = None
    activity: str | None = None

    @property
    def text(self) -> str:
        """The card's text (``task_card``)."""
        return task_card(self.task, self.note, self.question, self.activity)

    @property
    def shown(self) -> str:
        """Its text and buttons (``shown_key``)."""
        return shown_key(self.task, self.note, self.question, self.activity)


def progress_line(headline: str, progress: Progress) -> str:
    """``📣 cli → all: hello — delivered 7/8, 1 failed``."""
    failed = f", {progress.failed} failed" if progress.failed else ""
    line = f"📣 {headline} — delivered {progress.delivered}/{progress.total}{failed}"
    return shorten(one_line(line), 1900)
