"""Every event kind swarm writes, and what each means for display: one table read by Discord,
the dashboard, the CLI and the metrics alike.

An ``EventKind`` is a ``StrEnum``: it is stored as its text (``task.done``), so the rows do
not change. Each kind has one ``Shown`` entry: its icon, whether it goes on its task's card
and thread, into the channel, ahead of the backlog (urgent), at ``SWARM_NOTIFY=quiet``, or why
the Discord notifier posts nothing for it (the dashboard's activity page and ``swarm events``
list every event whatever its entry says).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from core.formats.text import one_line, shorten
from core.models import Event


class EventKind(enum.StrEnum):
    """What happened: the ``kind`` of an ``events`` row, ``family.what``."""

    ACCESS_REFUSED = "access.refused"
    ACCOUNT_LIMITED = "account.limited"
    ACCOUNT_LIMIT_ENDED = "account.limit_ended"
    AGENT_LIMIT_ENDED = "agent.limit_ended"
    AGENT_LIMIT_FLAPPED = "agent.limit_flapped"
    AGENT_LIMITED = "agent.limited"
    AGENT_LIMITED_IN_ACCOUNT = "agent.limited_in_account"
    AGENT_NUDGED = "agent.nudged"
    AGENT_ONBOARDED = "agent.onboarded"
    AGENT_PAUSED = "agent.paused"
    AGENT_RESET = "agent.reset"
    AGENT_RESUMED = "agent.resumed"
    AGENT_STATE = "agent.state"
    AGENT_STOPPED = "agent.stopped"
    AGENT_TURN = "agent.turn"
    ALERT_CLEARED = "alert.cleared"
    ALERT_OPENED = "alert.opened"
    BUDGET_REACHED = "budget.reached"
    BUDGET_SET = "budget.set"
    BUDGET_WARNED = "budget.warned"
    CAMPAIGN_CANCELLED = "campaign.cancelled"
    CAMPAIGN_CHANGED = "campaign.changed"
    CAMPAIGN_CREATED = "campaign.created"
    CAMPAIGN_FINISHED = "campaign.finished"
    DELIVERY_CLAIMED = "delivery.claimed"
    DELIVERY_DEFERRED = "delivery.deferred"
    DELIVERY_DELIVERED = "delivery.delivered"
    DELIVERY_DISMISSED = "delivery.dismissed"
    DELIVERY_FAILED = "delivery.failed"
    DELIVERY_RECOVERED = "delivery.recovered"
    DELIVERY_RETRIED = "delivery.retried"
    DELIVERY_RETRYING = "delivery.retrying"
    DELIVERY_SUPERSEDED = "delivery.superseded"
    GATE_APPROVED = "gate.approved"
    GATE_REJECTED = "gate.rejected"
    GATE_WAITING = "gate.waiting"
    GITHUB_CI_DECIDED = "github.ci_decided"
    GITHUB_CI_EXHAUSTED = "github.ci_exhausted"
    GITHUB_CLOSED = "github.closed"
    GITHUB_FOLLOWUP = "github.followup"
    GITHUB_IMPORTED = "github.imported"
    GITHUB_MERGED = "github.merged"
    GITHUB_PULL = "github.pull"
    GITHUB_PUSH_REFUSED = "github.push_refused"
    GITHUB_REVIEW_POSTED = "github.review_posted"
    GITHUB_WEBHOOK = "github.webhook"
    HELD_ACCEPTED = "held.accepted"
    HELD_APPLIED = "held.applied"
    HELD_OPENED = "held.opened"
    HELD_REJECTED = "held.rejected"
    INPUT_PAUSED = "input.paused"
    INPUT_RESUMED = "input.resumed"
    MESSAGE_QUEUED = "message.queued"
    PLAN_APPROVED = "plan.approved"
    PLAN_CREATED = "plan.created"
    PLAN_DISCARDED = "plan.discarded"
    POST_FAILED = "post.failed"
    POST_REPOSTED = "post.reposted"
    PROMPT_CLOSED = "prompt.closed"
    PROMPT_DECIDED = "prompt.decided"
    PROMPT_FLOODED = "prompt.flooded"
    PROMPT_NOT_TYPED = "prompt.not_typed"
    PROMPT_OPENED = "prompt.opened"
    PROMPT_TYPED = "prompt.typed"
    RESERVATION_CROSSED = "reservation.crossed"
    RESERVATION_MADE = "reservation.made"
    RESERVATION_RELEASED = "reservation.released"
    SANDBOX_REFUSED = "sandbox.refused"
    SCHEDULE_CREATED = "schedule.created"
    SCHEDULE_FAILED = "schedule.failed"
    SCHEDULE_RAN = "schedule.ran"
    SCHEDULE_REMOVED = "schedule.removed"
    SCHEDULE_UPDATED = "schedule.updated"
    SUMMARY_POSTED = "summary.posted"
    TASK_ANSWERED = "task.answered"
    TASK_ASKED = "task.asked"
    TASK_ASSIGNED = "task.assigned"
    TASK_BLOCKED = "task.blocked"
    TASK_CANCELLED = "task.cancelled"
    TASK_COMMITS = "task.commits"
    TASK_CREATED = "task.created"
    TASK_DEPENDENCIES = "task.dependencies"
    TASK_DONE = "task.done"
    TASK_EDITED = "task.edited"
    TASK_FAILED = "task.failed"
    TASK_LEASE_EXPIRED = "task.lease_expired"
    TASK_MERGED = "task.merged"
    TASK_NOTE = "task.note"
    TASK_PINNED = "task.pinned"
    TASK_PROGRESS = "task.progress"
    TASK_READY = "task.ready"
    TASK_REOPENED = "task.reopened"
    TASK_REQUEUED = "task.requeued"
    TASK_RETRIED = "task.retried"
    TASK_REVIEW = "task.review"
    TASK_SKIPPED = "task.skipped"
    TASK_STARTED = "task.started"
    TASK_WAITING = "task.waiting"
    TASK_WITHDRAWN = "task.withdrawn"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    USAGE_NOT_CHARGED = "usage.not_charged"
    USAGE_OVERRAN = "usage.overran"
    USAGE_REFUSED = "usage.refused"
    USAGE_SUSPECT = "usage.suspect"


class Thread(enum.Enum):
    """From which ``SWARM_NOTIFY`` level a task's event adds a line to its task's thread."""

    QUIET = "quiet"  # at every level (a failure, a question)
    NORMAL = "normal"  # normal and verbose
    NOTE = "note"  # normal when it carries a note; verbose always
    VERBOSE = "verbose"  # verbose only


class Urgent(enum.Enum):
    """What a person must act on, posted by the notifier's second loop ahead of a backlog."""

    ALERT = "alert"  # to the alerts channel
    PROMPT = "prompt"  # an agent's permission prompt, with its buttons
    CI = "ci"  # CI failed past its retries, with its buttons
    GATE = "gate"  # a workflow gate waits for approval, with its buttons


@dataclass(frozen=True)
class Shown:
    """What one kind means for display. A kind no front end posts says why in ``hidden``."""

    icon: str = "•"  # before its text: channel and thread lines, the dashboard, the stream
    task: bool = False  # goes to its task's card and thread, never a line in the channel
    card: bool = False  # posts its task's card when it has none yet
    thread: Thread | None = None  # adds a line to its task's thread, from this level
    line: bool = False  # a line in the channel (events that are not a task's)
    long: bool = False  # posted whole, split over messages (a summary)
    message: bool = False  # moves a message's "delivered N/M" line
    urgent: Urgent | None = None
    quiet: bool = False  # shown even at SWARM_NOTIFY=quiet (failures, questions, pauses)
    summary: bool = True  # among a period summary's notable events
    hidden: str = ""  # why the notifier posts nothing for it

    @property
    def posted(self) -> bool:
        """Whether the Discord notifier shows it in any way."""
        return self.task or self.line or self.long or self.message or self.urgent is not None


_CARD = Shown(task=True, card=True, thread=Thread.VERBOSE)
_ROUTINE_CARD = Shown(task=True, card=True, thread=Thread.VERBOSE, summary=False)  # not notable
_NOTE_CARD = Shown(task=True, card=True, thread=Thread.NOTE)
_LINE = Shown(line=True)
_QUIET_LINE = Shown(line=True, quiet=True)
_DELIVERY = "a delivery's step: its outcome (delivered, failed) is what is shown"
_TYPED = "the keys typed for a decision the prompt's post already shows"
_GITHUB = "GitHub's own record, on the task's history (the task page, swarm events)"
_HELD = "answered in the needs-you queue, where the person decided"
_RESERVATION = "swarm reservations and the dashboard's reservations page show them"
_SCHEDULE = "the command that changed the schedule replies"
_CAMPAIGN = "the campaign's live message (/campaign show) follows it"

SHOWN: dict[EventKind, Shown] = {
    EventKind.ACCESS_REFUSED: Shown(icon="🛑", line=True, quiet=True),
    EventKind.ACCOUNT_LIMITED: Shown(icon="⏳", line=True, quiet=True),
    EventKind.ACCOUNT_LIMIT_ENDED: Shown(icon="▶️", line=True),
    EventKind.AGENT_LIMIT_ENDED: Shown(icon="▶️", line=True),
    EventKind.AGENT_LIMIT_FLAPPED: Shown(
        summary=False,
        hidden="the same limit again within the reset window already posted (agent.limited), "
        "or its end: one post per limit, not one per flap",
    ),
    EventKind.AGENT_LIMITED: Shown(icon="⏳", line=True),
    EventKind.AGENT_LIMITED_IN_ACCOUNT: Shown(
        summary=False,
        hidden="an agent's limit, or its end, while its account's breaker is open: the "
        "account's one post (account.limited) says it for all its agents",
    ),
    EventKind.AGENT_NUDGED: Shown(icon="👉", line=True),
    EventKind.AGENT_ONBOARDED: Shown(hidden="part of a delivery: the agent's first prompt"),
    EventKind.AGENT_PAUSED: _LINE,
    EventKind.AGENT_RESET: Shown(hidden="part of a delivery: the reset before a prompt"),
    EventKind.AGENT_RESUMED: _LINE,
    EventKind.AGENT_STATE: Shown(hidden="swarm agents and the agents page show the state"),
    EventKind.AGENT_STOPPED: Shown(icon="✋", line=True),
    EventKind.AGENT_TURN: Shown(hidden="a protocol agent's turn and its usage: the task's page"),
    EventKind.ALERT_CLEARED: Shown(icon="🟢", urgent=Urgent.ALERT),
    EventKind.ALERT_OPENED: Shown(icon="🚨", urgent=Urgent.ALERT, quiet=True),
    EventKind.BUDGET_REACHED: Shown(icon="⛔", line=True, quiet=True),
    EventKind.BUDGET_SET: Shown(icon="💵", line=True),
    EventKind.BUDGET_WARNED: Shown(icon="⚠️", line=True),
    EventKind.CAMPAIGN_CANCELLED: _QUIET_LINE,
    EventKind.CAMPAIGN_CHANGED: Shown(hidden=_CAMPAIGN),
    EventKind.CAMPAIGN_CREATED: Shown(hidden=_CAMPAIGN),
    EventKind.CAMPAIGN_FINISHED: _QUIET_LINE,
    EventKind.DELIVERY_CLAIMED: Shown(hidden=_DELIVERY),
    EventKind.DELIVERY_DEFERRED: Shown(hidden=_DELIVERY),
    EventKind.DELIVERY_DELIVERED: Shown(
        task=True, thread=Thread.VERBOSE, message=True, summary=False
    ),
    EventKind.DELIVERY_DISMISSED: Shown(hidden=_HELD),
    EventKind.DELIVERY_FAILED: Shown(
        icon="⚠️", task=True, card=True, thread=Thread.QUIET, message=True, quiet=True
    ),
    EventKind.DELIVERY_RECOVERED: Shown(hidden=_DELIVERY),
    EventKind.DELIVERY_RETRIED: Shown(hidden=_HELD),
    EventKind.DELIVERY_RETRYING: Shown(summary=False, hidden=_DELIVERY),
    EventKind.DELIVERY_SUPERSEDED: Shown(hidden=_DELIVERY),
    EventKind.POST_FAILED: Shown(hidden="the notifier's own failure: its health shows"),
    EventKind.POST_REPOSTED: Shown(hidden="the notifier's own record: its health shows"),
    EventKind.GATE_APPROVED: Shown(urgent=Urgent.GATE),
    EventKind.GATE_REJECTED: Shown(urgent=Urgent.GATE),
    EventKind.GATE_WAITING: Shown(urgent=Urgent.GATE),
    EventKind.GITHUB_CI_DECIDED: Shown(urgent=Urgent.CI),
    EventKind.GITHUB_CI_EXHAUSTED: Shown(urgent=Urgent.CI),
    EventKind.GITHUB_CLOSED: Shown(hidden=_GITHUB),
    EventKind.GITHUB_FOLLOWUP: Shown(hidden=_GITHUB),
    EventKind.GITHUB_IMPORTED: Shown(hidden=_GITHUB),
    EventKind.GITHUB_MERGED: Shown(hidden=_GITHUB),
    EventKind.GITHUB_PULL: Shown(hidden=_GITHUB),
    EventKind.GITHUB_PUSH_REFUSED: Shown(hidden=_GITHUB),
    EventKind.GITHUB_REVIEW_POSTED: Shown(hidden=_GITHUB),
    EventKind.GITHUB_WEBHOOK: Shown(hidden="the last webhook delivery seen (swarm github)"),
    EventKind.HELD_ACCEPTED: Shown(hidden=_HELD),
    EventKind.HELD_APPLIED: Shown(hidden=_HELD),
    EventKind.HELD_OPENED: Shown(icon="✋", line=True),
    EventKind.HELD_REJECTED: Shown(hidden=_HELD),
    EventKind.INPUT_PAUSED: Shown(icon="⏸️", line=True, quiet=True),
    EventKind.INPUT_RESUMED: Shown(icon="▶️", line=True, quiet=True),
    EventKind.MESSAGE_QUEUED: Shown(message=True, summary=False),
    EventKind.PLAN_APPROVED: _LINE,
    EventKind.PLAN_CREATED: _LINE,
    EventKind.PLAN_DISCARDED: _LINE,
    EventKind.PROMPT_CLOSED: Shown(urgent=Urgent.PROMPT),
    EventKind.PROMPT_DECIDED: Shown(urgent=Urgent.PROMPT),
    EventKind.PROMPT_FLOODED: Shown(icon="🚨", line=True, quiet=True),
    EventKind.PROMPT_NOT_TYPED: Shown(hidden=_TYPED),
    EventKind.PROMPT_OPENED: Shown(urgent=Urgent.PROMPT),
    EventKind.PROMPT_TYPED: Shown(hidden=_TYPED),
    EventKind.RESERVATION_CROSSED: Shown(hidden="the reply of swarm task merge, which made it"),
    EventKind.RESERVATION_MADE: Shown(hidden=_RESERVATION),
    EventKind.RESERVATION_RELEASED: Shown(hidden=_RESERVATION),
    # a host an agent's egress proxy refused (its first: a "Needs you" item, core.watch.gateways)
    EventKind.SANDBOX_REFUSED: Shown(icon="⛔", line=True),
    EventKind.SCHEDULE_CREATED: Shown(summary=False, hidden=_SCHEDULE),
    EventKind.SCHEDULE_FAILED: Shown(line=True, quiet=True),
    EventKind.SCHEDULE_RAN: Shown(line=True, summary=False),
    EventKind.SCHEDULE_REMOVED: Shown(summary=False, hidden=_SCHEDULE),
    EventKind.SCHEDULE_UPDATED: Shown(summary=False, hidden=_SCHEDULE),
    EventKind.SUMMARY_POSTED: Shown(icon="📋", long=True, summary=False),
    EventKind.TASK_ANSWERED: Shown(
        icon="💬", task=True, card=True, thread=Thread.QUIET, quiet=True
    ),
    EventKind.TASK_ASKED: Shown(icon="❓", task=True, card=True, thread=Thread.QUIET, quiet=True),
    EventKind.TASK_ASSIGNED: Shown(
        icon="📨", task=True, card=True, thread=Thread.VERBOSE, summary=False
    ),
    EventKind.TASK_BLOCKED: Shown(
        icon="⛔", task=True, card=True, thread=Thread.VERBOSE, summary=False
    ),
    EventKind.TASK_CANCELLED: _CARD,
    EventKind.TASK_COMMITS: Shown(hidden="the task page shows the diff stat"),
    EventKind.TASK_CREATED: _ROUTINE_CARD,
    EventKind.TASK_DEPENDENCIES: _ROUTINE_CARD,
    EventKind.TASK_DONE: Shown(icon="✅", task=True, card=True, thread=Thread.NOTE),
    EventKind.TASK_EDITED: _CARD,
    EventKind.TASK_FAILED: Shown(icon="❌", task=True, card=True, thread=Thread.QUIET, quiet=True),
    EventKind.TASK_LEASE_EXPIRED: Shown(task=True, card=True, thread=Thread.NORMAL),
    EventKind.TASK_MERGED: Shown(hidden="the reply of swarm task merge, which made it"),
    EventKind.TASK_NOTE: _NOTE_CARD,
    EventKind.TASK_PINNED: _CARD,
    EventKind.TASK_PROGRESS: _NOTE_CARD,
    EventKind.TASK_READY: _ROUTINE_CARD,
    EventKind.TASK_REOPENED: Shown(
        hidden="written with the review's task.review, which moves the card"
    ),
    EventKind.TASK_REQUEUED: Shown(task=True, card=True, thread=Thread.NORMAL),
    EventKind.TASK_RETRIED: _CARD,
    EventKind.TASK_REVIEW: Shown(icon="📝", task=True),
    EventKind.TASK_SKIPPED: Shown(
        hidden="a workflow's step left out: its campaign's live message shows it"
    ),
    EventKind.TASK_STARTED: Shown(task=True, card=True, thread=Thread.NOTE, summary=False),
    EventKind.TASK_WAITING: _ROUTINE_CARD,
    EventKind.TASK_WITHDRAWN: Shown(hidden="the word to the agent that lost it: the move is shown"),
    EventKind.TOKEN_CREATED: Shown(icon="🔑", line=True, quiet=True),
    EventKind.TOKEN_REVOKED: Shown(icon="🔑", line=True, quiet=True),
    EventKind.USAGE_NOT_CHARGED: _LINE,
    EventKind.USAGE_OVERRAN: _LINE,
    EventKind.USAGE_REFUSED: _LINE,
    EventKind.USAGE_SUSPECT: Shown(icon="🚨", line=True, quiet=True),
}
UNKNOWN = Shown(hidden="not a kind this version writes")


def shown(kind: str) -> Shown:
    """What ``kind`` means for display (``UNKNOWN`` for a kind this version does not write:
    rows of another version)."""
    try:
        return SHOWN[EventKind(kind)]
    except ValueError:
        return UNKNOWN


def kinds_where(test: Callable[[Shown], bool]) -> frozenset[EventKind]:
    """The kinds whose entry passes ``test``."""
    return frozenset(kind for kind, entry in SHOWN.items() if test(entry))


URGENT_KINDS = kinds_where(lambda s: s.urgent is not None)  # the notifier's second loop


def event_text(event: Event) -> str:
    """One line for an event: its kind's icon and its text (the notifier's channel lines,
    the dashboard, the live stream)."""
    return shorten(one_line(f"{shown(event.kind).icon} {event.text}"), 1900)
