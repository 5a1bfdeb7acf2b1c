"""What needs a person, in one queue: open questions, permission prompts, gates awaiting
approval, draft plans, items held from outside and open alerts, oldest first (``swarm
inbox``, the dashboard's "Needs you" panel, ``GET /api/v1/inbox``).

Each item has a stable reference that names its kind: ``Q-3`` (a question), ``R-7`` (a
permission request: an agent's prompt), ``T-12`` (a gate: its task), ``P-3`` (a draft plan),
``H-4`` (held: an outsider's review, an outsider's edit of an issue), ``A-2`` (an alert),
``D-5`` (a delivery that failed for good). The actions answer an item in one transaction, by
that reference:

- ``reply``: a question (the answer goes to the agent, quoting it);
- ``approve`` / ``reject``: a gate (its dependents are released / cancelled), a plan (its
  tasks are created / it is discarded), a held item (accepted: it reaches the agent /
  dropped) or a prompt. A prompt's ``approve`` chooses its narrowest allowing option
  (``allow_once`` before ``allow_always``) and ``reject`` its rejecting one (``reject_once``
  before ``reject_always``, never one that allows), by the options' kinds; a prompt with
  none is refused in one line; ``option`` chooses any option by its key;
- an alert is not answered: it clears itself when its condition ends (but a refused host's);
- ``allow`` / ``deny`` a host an agent's egress proxy refused the first time (an alert);
- ``retry`` / ``dismiss`` a failed delivery; ``handon`` / ``nudge`` / ``cancel`` the task of
  a stalled agent, of a limited one, or a stranded task (``core/inbox/actions.py``).

An item already decided is refused with one line naming who decided; every answer is a
person's: an actor that is a configured agent is refused (``Ctx.require_person``).

The queue shows at most ``TEXT_LIMIT`` characters of an item: its head and its tail, with a
line between them saying how much was cut (the end of a command is never what is hidden);
``show`` gives one item whole (a prompt also once it was decided or closed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core import planning as plans
from core import questions
from core.agent_state import AgentState
from core.agents import alerts, judge
from core.agents import queries as agent_queries
from core.context import Ctx
from core.delivery import undelivered as failed
from core.dialogs import permissions as prompts
from core.errors import InvalidInput, InvalidState, NotFound
from core.formats.text import head_tail, one_line, shorten
from core.inbox import queries
from core.inbox.spend import ACCOUNT, BUDGET, account_needs, budget_needs
from core.models import BlockedOn, PromptOption, Task, TaskStatus, task_ref
from core.planning import plan_ref
from core.questions import Question
from core.reservations import APPROVAL_SOURCE, approved
from core.store.conn import Conn
from core.tasks import held, list_tasks, nobody_takes, only_limited, wanted
from core.workflows import runs

QUESTION, PROMPT, GATE, PLAN, ALERT = "question", "prompt", "gate", "plan", "alert"
HELD = "held"
STRANDED = "stranded"  # a ready task no configured agent can take (its ref: the task's)
HOLDING = "holding"  # a task held by an agent limited or offline (its ref: the task's)
UNDELIVERED = "undelivered"  # a delivery that failed for good
# ACCOUNT: an account's usage limit, one item for all its agents; BUDGET: a budget spent,
# what it covers gets no new work (both: core/inbox/spend.py)
KIND_OF_PREFIX = {
    "Q": QUESTION,
    "R": PROMPT,
    "T": GATE,
    "P": PLAN,
    "H": HELD,
    "A": ALERT,
    "D": UNDELIVERED,
    "L": ACCOUNT,
    "B": BUDGET,
}
PREFIX_OF_KIND = {kind: prefix for prefix, kind in KIND_OF_PREFIX.items()}
REF_HELP = (
    "Q-3 (question), R-7 (prompt), T-12 (gate), P-3 (plan), H-4 (held), A-2 (alert), "
    "D-5 (failed delivery), L-1 (an account's limit) or B-2 (a budget spent)"
)
# reasons of a failed delivery that are no failure: dropped on purpose
NOT_FAILURES = (failed.SUPERSEDED, questions.PRINTED)
TEXT_LIMIT = 1000  # characters of an item's text in the queue (the whole text: `show` it)
ALERT_HINT = "clears itself when its condition ends (see swarm alerts)"
TASK_ACTIONS = ("handon", "reassign", "nudge", "cancel")  # a task an agent holds, not doing
# an agent that ended its turn without reporting: its task accepted as done, or failed, too
UNREPORTED_ACTIONS = ("accept", "fail", *TASK_ACTIONS)
HOST_ACTIONS = ("allow", "deny")  # a host an agent's egress proxy refused (its first time)


@dataclass(frozen=True)
class Need:
    """One thing that waits for a person.

    ``concerns``: who or what it is about (an agent, a campaign, who drafted a plan);
    ``actions``: what answers it (``reply``, ``approve``, ``reject``, ``decide``);
    ``options``: a prompt's choices (``decide`` takes one of their keys).
    """

    ref: str
    kind: str
    text: str
    since: float
    concerns: str
    agent: str | None = None
    task: str | None = None
    actions: tuple[str, ...] = ()
    options: tuple[PromptOption, ...] = ()
    hint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A plain dict (``swarm inbox --json``, ``GET /api/v1/inbox``)."""
        return {
            "ref": self.ref,
            "kind": self.kind,
            "text": self.text,
            "since": self.since,
            "concerns": self.concerns,
            "agent": self.agent,
            "task": self.task,
            "actions": list(self.actions),
            "options": [o.to_json() for o in self.options],
            "hint": self.hint,
            **self.extra,
        }


@dataclass(frozen=True)
class Answered:
    """What an action did, in one line (``swarm approve``, the REST API, the dashboard)."""

    ref: str
    kind: str
    action: str
    text: str
    by: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A plain dict."""
        return {
            "ref": self.ref,
            "kind": self.kind,
            "action": self.action,
            "text": self.text,
            "by": self.by,
            **self.detail,
        }


# -- the queue ----------------------------------------------------------------------------


def needs(conn: Conn, whole: bool = False, ctx: Ctx | None = None) -> list[Need]:
    """Everything that waits for a person, oldest first (``whole``: texts not cut). With
    ``ctx`` (the configured agents, the settings and the time) also the tasks that wait on
    the agents: ready tasks no configured agent can take, and tasks held by a limited agent."""
    waits = _stranded(conn, ctx) + _holding(conn, ctx) if ctx is not None else []
    found = [
        *_questions(conn, whole),
        *_prompts(conn, whole),
        *_gates(conn, whole),
        *_plans(conn, whole),
        *_held(conn, whole),
        *_alerts(conn, whole),
        *_not_told(_undelivered(conn, whole), waits),
        *waits,
        *(_spend(conn, ctx) if ctx is not None else []),
    ]
    return sorted(found, key=lambda n: (n.since, n.kind, n.ref))


def _not_told(undelivered: list[Need], waits: list[Need]) -> list[Need]:
    """The failed deliveries whose task's item does not already say it (a task that waits
    for its offline agent, or that its offline agent holds, is one item, not one more for
    each prompt or note to that agent about it that failed)."""
    told = {(n.task, n.agent) for n in waits if n.extra.get("offline")}
    return [n for n in undelivered if (n.task, n.agent) not in told]


def _spend(conn: Conn, ctx: Ctx) -> list[Need]:
    """The accounts held by a usage limit and the budgets spent (``core.inbox.spend``)."""
    return [Need(**fields) for fields in account_needs(conn, ctx) + budget_needs(conn, ctx)]


def show(conn: Conn, ref: str, ctx: Ctx | None = None) -> Need:
    """One item with its whole text: a prompt in any state (with how it ended), any other
    item while it waits; NotFound otherwise."""
    kind, number = parse(ref)
    if kind == PROMPT:
        return _prompt_need(_get_prompt(conn, number), True)
    wanted = f"{PREFIX_OF_KIND[kind]}-{number}"
    for need in needs(conn, whole=True, ctx=ctx):
        if need.ref == wanted:
            return need
    raise NotFound(f"{wanted} does not wait for a person: swarm inbox lists what does")


def count(conn: Conn, ctx: Ctx | None = None) -> int:
    """How many items wait (the dashboard's badge)."""
    return len(needs(conn, ctx=ctx))


def _text(text: str, ref: str, whole: bool) -> str:
    """The item's text: whole, or its head and tail with a mark of what was cut."""
    text = text.strip()
    return text if whole else head_tail(text, TEXT_LIMIT, f": see it all: swarm inbox show {ref}")


def _questions(conn: Conn, whole: bool) -> list[Need]:
    out = []
    for q in questions.open_questions(conn):
        ref = task_ref(q.task_id)
        out.append(
            Need(
                ref=f"Q-{q.id}",
                kind=QUESTION,
                text=_text(q.text, f"Q-{q.id}", whole),
                since=q.asked_at,
                concerns=f"{q.agent or q.asked_by} on {ref}",
                agent=q.agent,
                task=ref,
                actions=("reply",),
                extra={"asked_by": q.asked_by},
            )
        )
    return out


def _prompts(conn: Conn, whole: bool) -> list[Need]:
    return [_prompt_need(p, whole) for p in prompts.open_prompts(conn)]


def _prompt_need(p: prompts.Prompt, whole: bool) -> Need:
    """A prompt as an item: answerable while open, else how it ended (``show``)."""
    ref = prompt_ref(p.id)
    task = task_ref(p.task_id) if p.task_id is not None else None
    ended = ""
    if p.decided_at is not None:
        ended = f"answered {p.decision!r} by {p.decided_by}"
    elif p.closed_at is not None:
        ended = f"closed without a decision: {p.closed_why}"
    return Need(
        ref=ref,
        kind=PROMPT,
        text=_text(p.text, ref, whole),
        since=p.opened_at,
        concerns=p.agent + (f" on {task}" if task else ""),
        agent=p.agent,
        task=task,
        actions=() if ended else ("approve", "reject", "decide"),
        options=p.options,
        hint=ended,
        extra={
            "source": p.source.value,
            "prompt": p.id,
            "length": len(p.text.strip()),
            "cut": not whole and len(p.text.strip()) > TEXT_LIMIT,
        },
    )


def _gates(conn: Conn, whole: bool) -> list[Need]:
    rows = queries.waiting_gates(conn, BlockedOn.gate.value)
    out = []
    for task_id, title, updated_at, campaign_id, waiting in rows:
        where = f"campaign C-{campaign_id}" if campaign_id is not None else "a gate"
        out.append(
            Need(
                ref=task_ref(task_id),
                kind=GATE,
                text=_text(title, task_ref(task_id), whole),
                since=float(updated_at),
                concerns=f"{where}; {waiting} task(s) wait for it",
                task=task_ref(task_id),
                actions=("approve", "reject"),
            )
        )
    return out


def _plans(conn: Conn, whole: bool) -> list[Need]:
    out = []
    for plan in reversed(plans.list_plans(conn, "draft", 1000)):
        out.append(
            Need(
                ref=plan.ref,
                kind=PLAN,
                text=_text(plan.summary or plan.goal, plan.ref, whole),
                since=plan.created_at,
                concerns=f"drafted for {plan.created_by}: {len(plan.items)} task(s)",
                actions=("approve", "reject"),
                extra={"goal": plan.goal},
            )
        )
    return out


def _held(conn: Conn, whole: bool) -> list[Need]:
    return [
        Need(
            ref=item.ref,
            kind=HELD,
            text=_text(item.text, item.ref, whole),
            since=item.opened_at,
            concerns=f"{item.source} {item.kind}" + (f" for {item.agent}" if item.agent else ""),
            agent=item.agent,
            task=task_ref(item.task_id) if item.task_id is not None else None,
            actions=("approve", "reject"),
            hint=f"approve: {item.data.get('on_accept', 'accept it')}; "
            f"reject: {item.data.get('on_reject', 'drop it')}",
            extra={"source": item.source, "held": item.kind},
        )
        for item in held.waiting(conn)
    ]


def _alerts(conn: Conn, whole: bool) -> list[Need]:
    out = []
    for a in reversed(alerts.list_alerts(conn, limit=1000)):
        # a stalled, unreported or stopped agent's tasks: handed on, cancelled, or the agent
        # nudged (a stopped one: told to go on)
        held = a.kind in (alerts.STALLED, alerts.UNREPORTED, alerts.STOPPED)
        tasks = held_by(conn, a.agent) if held else []
        if a.kind.startswith(alerts.HOST_REFUSED):
            out.append(_host_refused(a, whole))
            continue
        out.append(
            Need(
                ref=f"A-{a.id}",
                kind=ALERT,
                text=_text(a.text, f"A-{a.id}", whole),
                since=a.opened_at,
                concerns=a.agent,
                agent=a.agent,
                task=tasks[0].ref if tasks else None,
                actions=_alert_actions(a.kind) if tasks else (),
                hint=ALERT_HINT,
                extra={"alert": a.kind, "tasks": [t.ref for t in tasks]},
            )
        )
    return out


def _host_refused(a: alerts.Alert, whole: bool) -> Need:
    """The first refusal of a host by an agent's egress proxy: allow it (written into its
    ``sandbox_allow``) or deny it (later refusals are events only)."""
    host = a.kind.removeprefix(alerts.HOST_REFUSED)
    return Need(
        ref=f"A-{a.id}", kind=ALERT, text=_text(a.text, f"A-{a.id}", whole),
        since=a.opened_at, concerns=a.agent, agent=a.agent, actions=HOST_ACTIONS,
        hint=f"allow: {host} written into {a.agent}'s sandbox_allow, its gateway reads it; "
        "deny: later refusals of it are events only",
        extra={"alert": alerts.HOST_REFUSED.rstrip(":"), "host": host},
    )  # fmt: skip


def _alert_actions(kind: str) -> tuple[str, ...]:
    """What a person may do about the tasks of an alert's agent."""
    return UNREPORTED_ACTIONS if kind in (alerts.UNREPORTED, alerts.STOPPED) else TASK_ACTIONS


def held_by(conn: Conn, agent: str) -> list[Task]:
    """The tasks ``agent`` holds (assigned or in progress), oldest first."""
    found = [
        task
        for status in (TaskStatus.assigned, TaskStatus.in_progress)
        for task in list_tasks(conn, status, agent=agent, limit=1000)
        if task.agent == agent  # not one pinned to it that another holds
    ]
    return sorted(found, key=lambda t: t.id)


def _undelivered(conn: Conn, whole: bool) -> list[Need]:
    out = []
    for d in failed.failed_for_good(conn, NOT_FAILURES):
        task = task_ref(d.task_id) if d.task_id is not None else None
        out.append(
            Need(
                ref=d.ref,
                kind=UNDELIVERED,
                text=_text(d.describe(), d.ref, whole),
                since=d.failed_at,
                concerns=d.agent + (f" on {task}" if task else ""),
                agent=d.agent,
                task=task,
                actions=("retry", "dismiss"),
                hint=(
                    f"send it again (swarm inbox retry {d.ref}) or dismiss it "
                    f"(swarm inbox dismiss {d.ref})"
                ),
                extra={"delivery": d.id, "message": d.message_id, "reason": d.reason},
            )
        )
    return out


def _stranded(conn: Conn, ctx: Ctx) -> list[Need]:
    """Ready tasks that no configured agent can take: pinned to an agent that is not
    configured, or for a role or capabilities that no configured agent has (the agents file
    changed after they were made); or that only agents held by a usage limit can take (they
    wait for its reset), or only frozen agents. Nothing answers them here: the hint names the
    commands."""
    ends = judge.limited_agents(conn, ctx.now, ctx.settings.limit_backoff_s)
    frozen = agent_queries.frozen_agents(conn)
    offline = _offline(conn, ctx)
    found = []
    for task in reversed(list_tasks(conn, TaskStatus.ready, limit=10_000)):
        why = (
            nobody_takes(task, ctx.agents)
            or _limit_bound(task, ctx, ends)
            or _frozen_bound(task, ctx, frozen)
        )
        gone = _offline_bound(task, ctx, offline) if why is None else None
        why = why or (gone[1] if gone else None)
        if why is None:
            continue
        ref = task.ref
        found.append(
            Need(
                ref=ref,
                kind=STRANDED,
                text=f"{ref} {one_line(task.title)!r} waits for {why}",
                since=task.updated_at,
                concerns=task.pinned or task.role or "no agent",
                agent=gone[0] if gone else None,
                task=ref,
                actions=("reassign", "cancel"),
                hint=(
                    f"give it to an agent (swarm inbox reassign {ref} AGENT), change what it "
                    f"needs (swarm task edit {ref} --role ROLE) or cancel it "
                    f"(swarm task cancel {ref})"
                ),
                extra={"offline": True} if gone else {},
            )
        )
    return found


def _offline(conn: Conn, ctx: Ctx) -> dict[str, tuple[float, str]]:
    """The configured agents that are offline now: agent -> (since, evidence)."""
    rows = agent_queries.agents_in_state(conn, AgentState.OFFLINE.value)
    return {
        agent: (float(since or 0.0), one_line(evidence or "no signal sees it"))
        for agent, since, evidence in rows
        if agent in ctx.agents
    }


def _offline_bound(
    task: Task, ctx: Ctx, offline: dict[str, tuple[float, str]]
) -> tuple[str, str] | None:
    """(agent, ``Agent-1, which is offline (...): it gets the task once it is back``) when
    the only agents that can take ``task`` are offline (their pane or host gone); else None."""
    if not offline:
        return None
    found = only_limited(task, ctx.agents, {a: s for a, (s, _) in offline.items()})
    if found is None:
        return None
    agent, _ = found
    back = f"offline ({offline[agent][1]}): it gets the task once it is back"
    if task.pinned:
        return agent, f"{agent}, which is {back}"
    return agent, f"{wanted(task)}: {agent} is {back}"


def _limit_bound(task: Task, ctx: Ctx, ends: dict[str, float]) -> str | None:
    """``Agent-1, which is limited until 15:00:00`` (pinned) or ``a 'data' agent: Agent-5
    is limited until ...`` when only limited agents can take ``task``; else None."""
    found = only_limited(task, ctx.agents, ends) if ends else None
    if found is None:
        return None
    agent, until = found
    when = judge.until_text(until, ctx.now)
    if task.pinned:
        return f"{agent}, which is limited until {when}"
    return f"{wanted(task)}: {agent} is limited until {when}"


def _frozen_bound(task: Task, ctx: Ctx, frozen: dict[str, float]) -> str | None:
    """``Agent-1, whose turn froze: ...`` when the only agents that can take ``task`` are
    frozen (their tasks taken back for a stall, their turn not moved since: they get no task
    until they show their input); else None."""
    found = only_limited(task, ctx.agents, frozen) if frozen else None
    if found is None:
        return None
    agent, since = found
    froze = (
        f"turn froze: its tasks were taken back at {judge.clock_time(since)} and it gets "
        "none until it shows its input"
    )
    return f"{agent}, whose {froze}" if task.pinned else f"{wanted(task)}: {agent}'s {froze}"


def _holding(conn: Conn, ctx: Ctx) -> list[Need]:
    """Tasks held by an agent that is limited or offline now (its pane gone, its CLI ended):
    the person may hand them on, give them to one agent, wait, or cancel them."""
    ends = judge.limited_agents(conn, ctx.now, ctx.settings.limit_backoff_s)
    why = {a: f"limited until {judge.until_text(u, ctx.now)}" for a, u in ends.items()}
    for agent, (_, evidence) in _offline(conn, ctx).items():
        why.setdefault(agent, f"offline ({evidence})")
    found = []
    for agent, state in sorted(why.items()):
        for task in _held_tasks(conn, agent):
            found.append(_held_need(task, agent, state, ends.get(agent)))
    return found


def _held_tasks(conn: Conn, agent: str) -> list[Task]:
    """The tasks ``agent`` holds (assigned or in progress), oldest first."""
    held = []
    for status in (TaskStatus.assigned, TaskStatus.in_progress):
        held += [
            t
            for t in reversed(list_tasks(conn, status, agent=agent, limit=1000))
            if t.agent == agent
        ]  # fmt: skip (pinned to it, held by another: not its)
    return held


def _held_need(task: Task, agent: str, state: str, until: float | None) -> Need:
    ref = task.ref
    return Need(
        ref=ref,
        kind=HOLDING,
        text=f"{ref} {one_line(task.title)!r} is held by {agent}, which is {state}",
        since=task.assigned_at or task.updated_at,
        concerns=agent,
        agent=agent,
        task=ref,
        actions=TASK_ACTIONS,
        hint=(
            f"hand it on (swarm inbox handon {ref}), give it to one agent (swarm inbox "
            f"reassign {ref} AGENT), wait for {agent}, or cancel it"
        ),
        extra={"offline": True} if until is None else {"limited_until": until},
    )


# -- references ---------------------------------------------------------------------------


def prompt_ref(prompt_id: int) -> str:
    """``R-7``: a permission request (an agent's prompt)."""
    return f"R-{prompt_id}"


def parse(ref: str) -> tuple[str, int]:
    """``Q-3`` → (``question``, 3); NotFound naming the forms for anything else."""
    text = ref.strip()
    prefix, _, number = text.partition("-")
    kind = KIND_OF_PREFIX.get(prefix.upper())
    if kind is None or not (number.isascii() and number.isdigit()) or len(number) > 18:
        raise NotFound(f"unknown item {one_line(ref)!r}: items look like {REF_HELP}")
    return kind, int(number)


# -- answering ----------------------------------------------------------------------------


def reply(conn: Conn, ctx: Ctx, ref: str, text: str) -> Question:
    """Answer question ``Q-3`` (or a task's oldest open question: ``T-3``, ``3``)."""
    ctx.require_person("answering a question")
    kind, number = parse(f"T-{ref.strip()}" if ref.strip().isdigit() else ref)
    if kind == GATE:  # T-3: the task's oldest open question, as `swarm reply T-3` always did
        return questions.answer(conn, ctx, number, text)
    if kind == QUESTION:
        return questions.answer_one(conn, ctx, number, text)
    raise InvalidInput(f"{ref.strip().upper()} is a {kind}: only a question takes a reply")


def approve(conn: Conn, ctx: Ctx, ref: str, option: str | None = None, note: str = "") -> Answered:
    """Approve a gate or a plan, or choose a prompt's narrowest allow (or ``option``)."""
    return _decide(conn, ctx, ref, "approve", option, note)


def reject(conn: Conn, ctx: Ctx, ref: str, option: str | None = None, note: str = "") -> Answered:
    """Reject a gate or a plan, or choose a prompt's rejecting option (or ``option``)."""
    return _decide(conn, ctx, ref, "reject", option, note)


def decide_prompt(conn: Conn, ctx: Ctx, prompt_id: int, key: str) -> Answered:
    """Choose option ``key`` of prompt ``prompt_id`` (once)."""
    ctx.require_person("answering a permission prompt")
    _refuse_decided(_get_prompt(conn, prompt_id))
    decided = prompts.decide(conn, ctx, prompt_id, key)
    label = decided.option(decided.decision or key).label
    return Answered(
        prompt_ref(prompt_id),
        PROMPT,
        "decide",
        f"{prompt_ref(prompt_id)}: {label!r} chosen for {decided.agent}",
        ctx.actor,
        {"agent": decided.agent, "decision": decided.decision, "label": label},
    )


def _get_prompt(conn: Conn, prompt_id: int) -> prompts.Prompt:
    try:
        return prompts.get_prompt(conn, prompt_id)
    except NotFound:
        raise NotFound(f"unknown prompt {prompt_ref(prompt_id)}") from None


def _refuse_decided(prompt: prompts.Prompt) -> None:
    """A decided or closed prompt is refused before its options are read (a wrong key on a
    decided prompt still says who decided it)."""
    ref = prompt_ref(prompt.id)
    if prompt.decided_at is not None:
        raise InvalidState(f"{ref} was already answered {prompt.decision!r} by {prompt.decided_by}")
    if prompt.closed_at is not None:
        raise InvalidState(f"{ref} is closed: {prompt.closed_why}")


def _decide(conn: Conn, ctx: Ctx, ref: str, action: str, option: str | None, note: str) -> Answered:
    kind, number = parse(ref)
    ctx.require_person(f"{action} of {ref.strip().upper()}")
    handler = _DECIDERS.get(kind)
    if handler is None:
        shown = ref.strip().upper()
        if kind == ALERT:
            raise InvalidInput(f"{shown} is an alert: nothing to {action}; it {ALERT_HINT}")
        if kind == UNDELIVERED:
            raise InvalidInput(
                f"{shown} is a failed delivery: retry it (swarm inbox retry {shown}) or "
                f"dismiss it (swarm inbox dismiss {shown})"
            )
        raise InvalidInput(f"{shown} is a question: answer it with swarm reply {shown} TEXT")
    if option is not None and kind != PROMPT:
        raise InvalidInput(f"--option is for a prompt (R-7); {ref.strip().upper()} is a {kind}")
    if note.strip() and kind != GATE:
        raise InvalidInput(f"a note is kept for a gate (T-12); {ref.strip().upper()} is a {kind}")
    return handler(conn, ctx, number, action, option, note)


def _gate(conn: Conn, ctx: Ctx, task_id: int, action: str, _: str | None, note: str) -> Answered:
    ref = task_ref(task_id)
    if action == "approve":
        runs.approve(conn, ctx, task_id, note)
        return Answered(ref, GATE, action, f"{ref} approved", ctx.actor)
    cancelled = runs.reject(conn, ctx, task_id, note)
    shown = ", ".join(task_ref(i) for i in cancelled) or "nothing else"
    return Answered(
        ref,
        GATE,
        action,
        f"{ref} rejected; cancelled {shown}",
        ctx.actor,
        {"cancelled": [task_ref(i) for i in cancelled]},
    )


def _plan(conn: Conn, ctx: Ctx, plan_id: int, action: str, _: str | None, note: str) -> Answered:
    ref = plan_ref(plan_id)
    if action == "approve":
        ids = plans.approve_plan(conn, ctx, plan_id)
        refs = [task_ref(i) for i in ids]
        text = f"{ref} approved: {len(ids)} task(s) created ({', '.join(refs)})"
        return Answered(ref, PLAN, action, text, ctx.actor, {"tasks": refs})
    plans.discard_plan(conn, ctx, plan_id)
    return Answered(ref, PLAN, action, f"{ref} discarded: nothing was created", ctx.actor)


def _prompt(
    conn: Conn,
    ctx: Ctx,
    prompt_id: int,
    action: str,
    option: str | None,
    _: str,
) -> Answered:
    prompt = _get_prompt(conn, prompt_id)
    _refuse_decided(prompt)
    if option is None:
        option = _chosen(prompt, action).key
    answered = decide_prompt(conn, ctx, prompt_id, option)
    return Answered(answered.ref, PROMPT, action, answered.text, ctx.actor, answered.detail)


def _chosen(prompt: prompts.Prompt, action: str) -> PromptOption:
    """The option a plain approve (the narrowest allow) or reject (a rejecting one) takes;
    InvalidInput in one line when the prompt has none."""
    found = prompt.approving() if action == "approve" else prompt.rejecting()
    if found is None:
        what = "allows" if action == "approve" else "rejects"
        keys = ", ".join(f"{o.key} ({o.label})" for o in prompt.options)
        raise InvalidInput(
            f"{prompt_ref(prompt.id)} has no option that {what}: choose one with --option "
            f"({shorten(keys, 300)})"
        )
    return found


def _held_item(conn: Conn, ctx: Ctx, held_id: int, action: str, _: str | None, __: str) -> Answered:
    item = held.decide(conn, ctx, held_id, action == "approve")
    what = str(item.data.get("on_accept" if action == "approve" else "on_reject") or "")
    if item.source == APPROVAL_SOURCE and action == "approve" and item.agent is not None:
        what = approved(conn, ctx, item.agent, item.data)  # made here, or why not
        held.applied(conn, ctx, held_id, what, item.task_id)
    text = f"{item.ref} {item.decision} by {ctx.actor}" + (f": {what}" if what else "")
    return Answered(item.ref, HELD, action, text, ctx.actor, {"decision": item.decision})


_DECIDERS: dict[str, Callable[[Conn, Ctx, int, str, str | None, str], Answered]] = {
    GATE: _gate,
    PLAN: _plan,
    HELD: _held_item,
    PROMPT: _prompt,
}
