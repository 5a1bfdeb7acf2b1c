"""Domain types shared by every front end."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput, NotFound, UnknownTask
from core.formats.text import one_line, shorten


class Priority(enum.IntEnum):
    """Task priority; a higher value is served first."""

    low = 0
    normal = 1
    high = 2
    urgent = 3

    @classmethod
    def parse(cls, value: str | int | Priority) -> Priority:
        """Read a priority name (any case) or number; raise InvalidInput otherwise."""
        if isinstance(value, Priority):
            return value
        if isinstance(value, int):
            try:
                return cls(value)
            except ValueError:
                pass
        else:
            try:
                return cls[value.strip().lower()]
            except KeyError:
                pass
        names = ", ".join(p.name for p in cls)
        raise InvalidInput(f"invalid priority {value!r}: use one of {names}")


class TaskStatus(enum.StrEnum):
    """Where a task stands in its lifecycle."""

    blocked = "blocked"
    ready = "ready"
    assigned = "assigned"
    in_progress = "in_progress"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"
    skipped = "skipped"  # a workflow step whose condition was false, or an unneeded branch

    @classmethod
    def parse(cls, value: str) -> TaskStatus:
        """Read a status name; raise InvalidInput otherwise."""
        try:
            return cls(value.strip().lower().replace("-", "_"))
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise InvalidInput(f"invalid status {value!r}: use one of {names}") from None


ACTIVE = (TaskStatus.assigned, TaskStatus.in_progress)
FINISHED = (TaskStatus.done, TaskStatus.failed, TaskStatus.cancelled, TaskStatus.skipped)
FINISHED_SQL = "(" + ", ".join(f"'{status.value}'" for status in FINISHED) + ")"  # status IN ...


class DeliveryState(enum.StrEnum):
    """Where one delivery of a message to one agent stands."""

    queued = "queued"
    delivering = "delivering"
    delivered = "delivered"
    failed = "failed"


class ClaimOutcome(enum.StrEnum):
    """What became of a delivery node's claim once its receipt was stored: the delivery's
    new state, or ``lost`` (another node took it over after the lease: nothing stored)."""

    delivered = "delivered"
    queued = "queued"  # to be tried again (a retry or a deferral)
    failed = "failed"
    lost = "lost"


class BlockedOn(enum.StrEnum):
    """What a ``blocked`` task waits for (``tasks.blocked_on``; NULL in any other status)."""

    dependencies = "dependencies"  # earlier tasks not finished yet: no person is needed
    gate = "gate"  # a gate whose dependencies are through: a person approves or rejects it
    dependency_failed = "dependency_failed"  # a dependency failed or was cancelled
    person = "person"  # a person took the work over (``core/tasks/_person.py``)

    @property
    def waiting(self) -> bool:
        """True for the normal wait of a dependent task (nobody has to act)."""
        return self is BlockedOn.dependencies


def task_ref(task_id: int) -> str:
    """The human-friendly id of a task, e.g. ``T-12``."""
    return f"T-{task_id}"


def parse_ref(
    ref: str | int, prefix: str, what: str, example: int = 12, error: type[NotFound] = NotFound
) -> int:
    """Read ``T-12``, ``t-12`` or ``12`` (for ``prefix`` "T") into 12; ``error`` otherwise."""
    if isinstance(ref, int):
        return ref
    text = ref.strip()
    if text[:2].upper() == f"{prefix}-":
        text = text[2:]
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # SQLite ids are 64-bit
        raise error(f"unknown {what} {ref!r}: {what} ids look like {prefix}-{example}")
    return int(text)


def parse_task_ref(ref: str | int) -> int:
    """Read ``T-12``, ``t-12`` or ``12`` into 12; raise UnknownTask for anything else."""
    return parse_ref(ref, "T", "task", error=UnknownTask)


@dataclass(frozen=True)
class Limits:
    """A sandboxed agent's limits (``sandbox_limits``): at most ``pids`` processes and
    threads, ``memory`` bytes, ``cpu`` cores (``automation.launch.sandbox._limits``)."""

    pids: int = 512
    memory: int = 4 << 30
    cpu: float = 2.0


@dataclass(frozen=True)
class Sandbox:
    """How an agent's CLI is fenced in by bubblewrap (``sandbox = true``): besides its
    worktree and its CLI's own folders, ``read`` and ``write`` name more paths it may read,
    or read and write; ``network``: ``"model"`` (a network of its own: its model through
    swarm's gateway, ``allow``'s hosts through swarm's egress proxy), ``"none"`` (its own
    loopback only), ``"open"`` (the host's), ``""`` (not said: ``"model"`` where its CLI has
    a gateway set-up, else ``"open"``); ``env``: the names of the person's variables it is
    given besides its CLI's own (nothing else of the environment enters)."""

    network: str = ""
    allow: tuple[str, ...] = ()
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Agent:
    """One configured agent: a chat window on the desktop."""

    id: str
    role: str
    capabilities: tuple[str, ...] = ()
    input: tuple[int, int] | None = None
    watch: tuple[int, int, int, int] | None = None
    capacity: int = 1
    submit: str = "enter"
    delivery: str = "gui"  # gui (the desktop driver), tmux (into its pane), inbox (files)
    app: str = "chat"  # the application preset the keys below came from
    input_box: tuple[int, int, int, int] | None = None  # where typed text shows (x, y, w, h)
    clear: tuple[str, ...] = ("ctrl+a", "delete")  # key combinations that empty the input
    paste: str = "ctrl+v"
    set_primary: bool = False  # also put the text in the PRIMARY selection
    workspace: str | None = None  # the agent's own folder (agents file), else swarm's worktree
    captain: bool = False  # the agent the others ask (role templates name it)
    reset_between_tasks: bool = False  # clear the agent's context before each new task
    reset: tuple[str, ...] = ("ctrl+l",)  # the reset action: key combinations or "text:..."
    node: str | None = None  # the delivery node (desktop) that delivers to it (PostgreSQL)
    tmux: str | None = None  # its terminal's tmux pane, "session:window[.pane]" (text signal)
    tmux_socket: str | None = None  # that tmux server's socket (tmux -S); None: the default
    cli: str | None = None  # the agent CLI it runs (its rule file); None: every rule file
    # its CLI's own folder (its session files: each turn's usage) as its protocol host runs
    # it, written by ``desktop up --protocol``; None: not known (its turns' cost unknown)
    cli_dir: str | None = None
    mcp: bool = False  # it has swarm's MCP tools: its prompts name them, not the shell commands
    # swarm's hooks are in its workspace (``desktop up`` put them there): a prompt that reaches
    # it with no hook event after is an alert (``core.watch.silent_hooks``)
    hooks: bool = False
    account: str | None = None  # the account it runs on (its limits, its spend); None: derived
    daily_budget: float | None = None  # dollars it may spend a day (UTC) before it gets no task
    # dollars its (named) account's agents together may spend a day (UTC)
    account_daily_budget: float | None = None
    sandbox: Sandbox | None = None  # its CLI runs under bubblewrap (``sandbox = true``)
    # its model through swarm's gateway though unsandboxed (``gateway = true``): its CLI's
    # base URL at a loopback port of the gateway's, a placeholder for its key
    gateway: bool = False
    # an editor window's own ``sandbox = true``, refused (its command is not wrapped): it
    # runs unsandboxed (``sandbox`` None) and ``desktop up`` will not start it
    sandbox_refused: bool = False

    def can_take(self, role: str | None, capabilities: tuple[str, ...]) -> bool:
        """True when this agent has the role (if any) and every capability asked for."""
        if role and role != self.role:
            return False
        return set(capabilities) <= set(self.capabilities)


@dataclass
class Task:
    """A unit of work for one agent."""

    id: int
    title: str
    details: str
    priority: Priority
    status: TaskStatus
    role: str | None = None
    capabilities: tuple[str, ...] = ()
    pinned: str | None = None
    agent: str | None = None
    after: list[int] = field(default_factory=list)
    attempts: int = 0
    max_attempts: int = 3
    reason: str | None = None
    note: str | None = None
    created_by: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    assigned_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    lease_expires_at: float | None = None
    plan_id: str | None = None
    kind: str = "work"  # work | gate (a person decides) | on_failure | skip (see task_rules)
    blocked_on: BlockedOn | None = None  # what a blocked task waits for

    @property
    def ref(self) -> str:
        """Human-friendly id, e.g. ``T-12``."""
        return task_ref(self.id)

    def to_json(self) -> dict[str, Any]:
        """A plain dict with the field names the CLI and the bot show."""
        return {
            "id": self.ref,
            "title": self.title,
            "details": self.details,
            "status": self.status.value,
            "priority": self.priority.name,
            "role": self.role,
            "capabilities": list(self.capabilities),
            "pinned": self.pinned,
            "agent": self.agent,
            "after": [task_ref(d) for d in self.after],
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "reason": self.reason,
            "blocked_on": self.blocked_on.value if self.blocked_on else None,
            "note": self.note,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "assigned_at": self.assigned_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "lease_expires_at": self.lease_expires_at,
            "plan_id": self.plan_id,
        }


@dataclass(frozen=True)
class TaskSpec:
    """What a person asks for when creating a task; ``ref`` names it inside one batch."""

    title: str
    details: str = ""
    priority: str | int | Priority = Priority.normal
    role: str | None = None
    capabilities: tuple[str, ...] = ()
    agent: str | None = None
    after: tuple[str | int, ...] = ()
    ref: str | None = None
    kind: str = "work"  # work | gate (a person decides) | on_failure | skip (see task_rules)
    on_failure: tuple[str | int, ...] = ()  # runs only if one of these fails


@dataclass(frozen=True)
class Event:
    """One row of the outbox: something that happened, in order."""

    id: int
    ts: float
    kind: str
    text: str
    task_id: int | None = None
    agent: str | None = None
    actor: str | None = None
    data: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output and exports."""
        return {
            "id": self.id,
            "ts": self.ts,
            "kind": self.kind,
            "text": self.text,
            "task": task_ref(self.task_id) if self.task_id is not None else None,
            "agent": self.agent,
            "actor": self.actor,
            "data": self.data,
        }


class TargetKind(enum.StrEnum):
    """Whom a message is for (``messages.target_kind``); the name, if any, is
    ``messages.target_name``."""

    agent = "agent"  # one agent: a plain message, or a task's prompt (with its task)
    role = "role"  # every agent of the role named (a broadcast)
    all = "all"  # every agent (no name)
    note = "note"  # a note about a task to its agent (an answer, a nudge): sent as it is
    reset = "reset"  # the agent's reset action (its own parcel)
    withdraw = "withdraw"  # a task taken back from the agent


@dataclass(frozen=True)
class Target:
    """A message's target: its kind and the agent or role it names (None for ``all``)."""

    kind: TargetKind
    name: str | None = None

    def __str__(self) -> str:
        """``agent:Agent-1``, ``role:dev``, ``all``: as events and listings show it."""
        return self.kind.value if self.name is None else f"{self.kind.value}:{self.name}"


@dataclass(frozen=True)
class Delivery:
    """One message on its way to one agent."""

    id: int
    message_id: int
    agent: str
    state: DeliveryState
    text: str
    sender: str
    task_id: int | None
    priority: Priority
    attempts: int = 0
    reason: str | None = None
    is_retry: bool = False
    target: Target = Target(TargetKind.all)  # the message's (a reset: ``Target(reset, X)``)
    deferred: bool = False  # its last try was put off (not attempted): ``reason`` says why

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output."""
        return {
            "id": self.id,
            "message": self.message_id,
            "agent": self.agent,
            "state": self.state.value,
            "sender": self.sender,
            "task": task_ref(self.task_id) if self.task_id is not None else None,
            "attempts": self.attempts,
            "reason": self.reason,
            "deferred": self.deferred,
        }


# a withdrawal's receipt method ends so when its route stopped the turn and typed nothing:
# its notice is put before the agent's next message (``core.delivery``)
NOTICE_CARRIED = "turn stopped, notice with the next message"


@dataclass(frozen=True)
class Receipt:
    """What a deliverer says about one delivery."""

    ok: bool
    reason: str | None = None
    method: str = ""
    retryable: bool = True
    deferred: bool = False  # not attempted (paused, the human is busy): retry without a try
    gone: bool = False  # the agent's session (its pane) is gone: it gets nothing until back
    idle_seen: bool = False  # a withdrawal's stop: its pane was read idle after it

    @classmethod
    def delivered(cls, method: str) -> Receipt:
        """The text arrived."""
        return cls(True, None, method, retryable=False)

    @classmethod
    def stopped(cls, method: str, *, idle_seen: bool = False) -> Receipt:
        """A withdrawal done by stopping the agent's turn, its notice not typed: the notice
        goes with the agent's next message (a turn of its own would be a paid model request
        and would show the agent at work on what it was just told to stop); ``idle_seen``:
        its pane read idle after the stop (the agent judged on it at once)."""
        carried = f"{method}, {NOTICE_CARRIED}"
        return cls(True, None, carried, retryable=False, idle_seen=idle_seen)

    @property
    def carried(self) -> bool:
        """Whether a withdrawal's notice was left for the agent's next message."""
        return self.ok and self.method.endswith(NOTICE_CARRIED)

    @classmethod
    def failed(
        cls,
        reason: str,
        method: str = "",
        *,
        retryable: bool = True,
        deferred: bool = False,
        gone: bool = False,
    ) -> Receipt:
        """It did not arrive, and why; ``retryable=False``: another try cannot help;
        ``deferred``: it was not attempted (retried later without using up a try);
        ``gone``: the agent's session is gone (no try can help until it is back)."""
        return cls(False, reason, method, retryable and not gone, deferred, gone)


# What a person chooses from when an agent asks: an option's key, label and kind (allow or
# reject, once or always, as ACP names them), read from its words where its route names none.
LABEL_MAX = 200  # characters of an option's label kept (the rest cut, with an ellipsis)
# an option's kind, as ACP names them: what choosing it does
ALLOW_ONCE, ALLOW_ALWAYS = "allow_once", "allow_always"
REJECT_ONCE, REJECT_ALWAYS = "reject_once", "reject_always"
KINDS = (ALLOW_ONCE, ALLOW_ALWAYS, REJECT_ONCE, REJECT_ALWAYS)
# the kind of an option its route names none for (a pane's dialog), by its words
_REJECTS = re.compile(r"(?i)^\W*(no|reject|deny|don'?t allow|decline|cancel|keep planning)\b")
_ALWAYS = re.compile(r"(?i)don'?t ask again|\balways\b|\bsession\b|\ball\b")
_ALLOWS = re.compile(r"(?i)^\W*(yes|allow|approve|proceed|accept|ok|go ahead)\b")


def option_kind(label: str) -> str:
    """The kind of an option that names none, from its words (``No, and tell Claude ...``:
    reject_once; ``Yes, and don't ask again``: allow_always); empty when they say none."""
    if _REJECTS.search(label):
        return REJECT_ALWAYS if _ALWAYS.search(label) else REJECT_ONCE
    if _ALLOWS.search(label):
        return ALLOW_ALWAYS if _ALWAYS.search(label) else ALLOW_ONCE
    return ""


@dataclass(frozen=True)
class PromptOption:
    """One choice: ``key`` is what the agent takes (``1``, ``y``, ``allow``); ``label``: words;
    ``kind``: what choosing it does (``KINDS``; empty: unknown)."""

    key: str
    label: str
    kind: str = ""

    @classmethod
    def of(cls, key: str, label: str, kind: object = None) -> PromptOption:
        """An option as swarm keeps it: its label on one line within ``LABEL_MAX``, its kind
        one of ``KINDS`` (else read from its label)."""
        label = shorten(one_line(label), LABEL_MAX)
        return cls(key, label, kind if kind in KINDS else option_kind(label))

    def to_json(self) -> dict[str, str]:
        """A plain dict: the label the agent gave, its key (for ``--option``) and its kind."""
        return {"key": self.key, "label": self.label, "kind": self.kind}
