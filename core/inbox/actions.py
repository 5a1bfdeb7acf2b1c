"""What answers an item that is neither approved nor rejected, in one transaction, by its
reference (``swarm inbox ACTION REF``, Discord's ``/inbox`` buttons, the dashboard):

- ``retry`` / ``dismiss``: a delivery that failed for good (``D-5``): queued again (its
  attempts anew), or seen and let go;
- ``handon`` / ``reassign`` / ``nudge`` / ``cancel``: the task(s) of a stalled agent
  (``A-2``), a task held by a limited or offline agent (``T-3``, ``holding``): taken back
  for any other agent (its attempts kept), given to the agent the person picks
  (``reassign AGENT``: taken from the holder, which is told it is withdrawn), the agent
  reminded to report, or cancelled; a ready task no agent can take (``stranded``): given
  to the agent picked, or cancelled;
- ``raise`` / ``cancel``: a task's or a campaign's budget spent (``B-2``): raised to the
  amount the person gives (``raise DOLLARS``: a number above what was spent), or the task,
  or the campaign and its unfinished tasks, cancelled (its running turns stop with them);
- ``allow`` / ``deny``: a host an agent's egress proxy refused the first time (``A-4``):
  written into that agent's ``sandbox_allow`` in the agents file (its running gateway reads
  it once its spec is written: ``swarm run``'s gateway watch, or the command that answered),
  or denied: later refusals of it stay events.

An action is taken only on an item the queue lists with it: anything else is refused in one
line (who already acted, or what the item takes). Every action is a person's.
"""

from __future__ import annotations

from collections.abc import Callable

from core.agents import HOST_REFUSED, clear_alert
from core.assignment import lifecycle
from core.context import Ctx
from core.costs import budgets
from core.delivery import messages
from core.delivery import undelivered as failed
from core.errors import InvalidInput, InvalidState, NotFound
from core.event_kinds import EventKind
from core.formats.text import dollars_text
from core.inbox.needs import (
    NOT_FAILURES,
    PREFIX_OF_KIND,
    UNDELIVERED,
    Answered,
    Need,
    needs,
    parse,
)
from core.inbox.spend import BUDGET
from core.models import parse_task_ref
from core.sandbox import swarm_for
from core.sandbox.allow_file import allow_host
from core.settings import bundled_agents_file
from core.store.conn import Conn
from core.store.tables import insert_event
from core.workflows import campaigns

ACTIONS = ("retry", "dismiss", "handon", "reassign", "nudge", "cancel", "raise", "accept", "fail",
           "allow", "deny")  # fmt: skip


def act(
    conn: Conn,
    ctx: Ctx,
    ref: str,
    action: str,
    agent: str | None = None,
    dollars: float | None = None,
) -> Answered:
    """Take ``action`` on the waiting item ``ref`` (``reassign``: to ``agent``; ``raise``:
    a budget to ``dollars``)."""
    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    shown = ref.strip().upper()
    ctx.require_person(f"{action} of {shown}")
    if (action == "reassign") != (agent is not None):
        raise InvalidInput(
            f"reassign names the agent to give the task to (swarm inbox reassign {shown} "
            "AGENT); only reassign takes an agent"
        )
    if (action == "raise") != (dollars is not None):
        raise InvalidInput(
            f"raise names the new budget in dollars (swarm inbox raise {shown} DOLLARS); "
            "only raise takes an amount"
        )
    need = _waiting(conn, ctx, ref)
    if action not in need.actions:
        takes = " or ".join(need.actions) or "no action: it clears itself"
        raise InvalidInput(f"{need.ref} ({need.kind}) takes {takes}, not {action}")
    if agent is not None:
        return _reassign(conn, ctx, need, agent)
    if dollars is not None:
        return _raise(conn, ctx, need, dollars)
    return _HANDLERS[action](conn, ctx, need)


def _waiting(conn: Conn, ctx: Ctx, ref: str) -> Need:
    """The listed item ``ref``; one line saying why when it does not wait (any more)."""
    kind, number = parse(ref)
    wanted = f"{PREFIX_OF_KIND[kind]}-{number}"
    for need in needs(conn, whole=True, ctx=ctx):
        if need.ref == wanted:
            return need
    if kind == UNDELIVERED:  # raises the reason: dismissed by whom, retried, got through
        failed.waiting(conn, number, NOT_FAILURES)
    raise NotFound(f"{wanted} does not wait for a person: swarm inbox lists what does")


def _retry(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    found = failed.retry(conn, ctx, need.extra["delivery"], NOT_FAILURES)
    text = f"{need.ref}: {found.what} to {found.agent} queued again"
    return Answered(need.ref, need.kind, "retry", text, ctx.actor, {"agent": found.agent})


def _dismiss(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    found = failed.dismiss(conn, ctx, need.extra["delivery"], NOT_FAILURES)
    text = f"{need.ref} dismissed by {ctx.actor} ({found.what} to {found.agent})"
    return Answered(need.ref, need.kind, "dismiss", text, ctx.actor, {"agent": found.agent})


def _tasks(need: Need) -> list[int]:
    """The task ids the item is about: a stalled agent's, or the item's own."""
    refs = need.extra.get("tasks") or ([need.task] if need.task else [])
    return [parse_task_ref(r) for r in refs]


def _handon(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    ids = _tasks(need)
    for task_id in ids:
        lifecycle.requeue(conn, ctx, task_id)
    refs = ", ".join(f"T-{i}" for i in ids)
    text = f"{need.ref}: {refs} taken from {need.agent}, queued for another agent"
    return Answered(need.ref, need.kind, "handon", text, ctx.actor, {"tasks": refs.split(", ")})


def _reassign(conn: Conn, ctx: Ctx, need: Need, agent_id: str) -> Answered:
    """Give the item's task(s) to ``agent_id``: pinned to it, taken from their holder."""
    agent = ctx.agent(agent_id).id  # NotFound names the configured agents
    if agent == need.agent:
        raise InvalidInput(f"{need.ref}: {agent} already holds it: pick another agent")
    ids = _tasks(need)
    for task_id in ids:
        lifecycle.pin(conn, ctx, task_id, agent)
    refs = ", ".join(f"T-{i}" for i in ids)
    held = f" from {need.agent}" if need.agent else ""
    text = f"{need.ref}: {refs} reassigned{held} to {agent}"
    data = {"tasks": refs.split(", "), "agent": agent}
    return Answered(need.ref, need.kind, "reassign", text, ctx.actor, data)


def _raise(conn: Conn, ctx: Ctx, need: Need, dollars: float) -> Answered:
    """A spent budget raised to ``dollars``: more than was spent, or refused in one line."""
    budget = need.extra["budget"]
    spent = float(budget["cost_usd"])
    if not budgets.check_dollars(dollars) > spent:
        raise InvalidInput(
            f"{need.ref}: {dollars_text(dollars)} is not above the ${spent:.2f} {budget['name']} "
            "spent: give more, or cancel"
        )
    name = budget["name"]
    if budget["scope"] == budgets.TASK:
        budgets.set_task_budget(conn, ctx, parse_task_ref(name), dollars)
    else:
        budgets.set_campaign_budget(conn, ctx, campaigns.parse_campaign_ref(name), dollars)
    text = f"{need.ref}: {name}'s budget raised to {dollars_text(dollars)} by {ctx.actor}"
    return Answered(need.ref, need.kind, "raise", text, ctx.actor, {"budget": dollars})


def _cancel(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    if need.kind == BUDGET and need.extra["budget"]["scope"] == budgets.CAMPAIGN:
        return _cancel_campaign(conn, ctx, need)
    ids = _tasks(need)
    for task_id in ids:
        lifecycle.cancel(conn, ctx, task_id)
    refs = ", ".join(f"T-{i}" for i in ids)
    return Answered(
        need.ref,
        need.kind,
        "cancel",
        f"{need.ref}: {refs} cancelled",
        ctx.actor,
        {"tasks": refs.split(", ")},
    )


def _cancel_campaign(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    """A campaign whose budget is spent, cancelled with its unfinished tasks."""
    name = need.extra["budget"]["name"]
    ids = campaigns.cancel(conn, ctx, campaigns.parse_campaign_ref(name))
    refs = [f"T-{i}" for i in ids]
    text = f"{need.ref}: {name} cancelled ({len(ids)} unfinished task(s): {', '.join(refs)})"
    return Answered(need.ref, need.kind, "cancel", text, ctx.actor, {"tasks": refs})


def _nudge(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    """A note to the agent about its task(s), from the person who pressed Nudge."""
    ids, agent = _tasks(need), need.agent
    if agent is None or not ids:
        raise InvalidState(f"{need.ref} concerns no agent holding a task: nobody to nudge")
    refs = ", ".join(f"T-{i}" for i in ids)
    swarm = swarm_for(ctx.agents.get(agent), ctx.settings.agent_swarm)
    text = (
        f"{ctx.actor} asks how {refs} is going. If you are still working, report progress: "
        f'{swarm} task start T-{ids[0]} --note "..."; if you are stuck, say why: '
        f'{swarm} task fail T-{ids[0]} --reason "...".'
    )
    message_id = messages.queue(
        conn, ctx, [agent], text, target=messages.note_to(agent), task_id=ids[0]
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.AGENT_NUDGED,
        f"{agent} nudged by {ctx.actor} about {refs}",
        task_id=ids[0],
        agent=agent,
        actor=ctx.actor,
        data={"message": message_id, "by": ctx.actor},
    )
    text = f"{need.ref}: {agent} nudged about {refs}"
    return Answered(need.ref, need.kind, "nudge", text, ctx.actor, {"message": message_id})


def _accept(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    """The tasks of an agent that ended its turn without reporting, accepted as done by the
    person (who looked at its work): done, reported by that person."""
    ids = _tasks(need)
    for task_id in ids:
        lifecycle.complete(conn, ctx, task_id, f"accepted as done by {ctx.actor} (unreported)")
    refs = ", ".join(f"T-{i}" for i in ids)
    text = f"{need.ref}: {refs} accepted as done by {ctx.actor}"
    return Answered(need.ref, need.kind, "accept", text, ctx.actor, {"tasks": refs.split(", ")})


def _fail(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    """The tasks of an agent that ended its turn without reporting, failed by the person."""
    ids = _tasks(need)
    why = f"failed by {ctx.actor}: {need.agent} ended its turn without reporting it"
    for task_id in ids:
        lifecycle.fail(conn, ctx, task_id, why)
    refs = ", ".join(f"T-{i}" for i in ids)
    text = f"{need.ref}: {refs} failed by {ctx.actor}"
    return Answered(need.ref, need.kind, "fail", text, ctx.actor, {"tasks": refs.split(", ")})


def _allow(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    """The refused host written into its agent's ``sandbox_allow`` (the agents file), the
    item closed; ``detail``'s ``allow`` is the list as written, for the gateway's spec."""
    agent, host = str(need.agent), str(need.extra["host"])
    if ctx.settings.config_path == bundled_agents_file():
        raise InvalidState(f"{need.ref}: the agents file is swarm's bundled example: give swarm "
                           "your own (swarm agents calibrate copies it), then allow")  # fmt: skip
    allow = allow_host(ctx.settings.config_path, agent, host)
    text = f"{need.ref}: {host} allowed for {agent} by {ctx.actor} (its sandbox_allow)"
    clear_alert(conn, ctx, agent, HOST_REFUSED + host, text)
    detail = {"agent": agent, "host": host, "allow": list(allow)}
    return Answered(need.ref, need.kind, "allow", text, ctx.actor, detail)


def _deny(conn: Conn, ctx: Ctx, need: Need) -> Answered:
    """The refused host left refused, the item closed: later refusals are events only."""
    agent, host = str(need.agent), str(need.extra["host"])
    text = f"{need.ref}: {host} denied for {agent} by {ctx.actor} (later refusals: events)"
    clear_alert(conn, ctx, agent, HOST_REFUSED + host, text)
    return Answered(need.ref, need.kind, "deny", text, ctx.actor, {"agent": agent, "host": host})


_HANDLERS: dict[str, Callable[[Conn, Ctx, Need], Answered]] = {
    "retry": _retry,
    "dismiss": _dismiss,
    "handon": _handon,
    "nudge": _nudge,
    "cancel": _cancel,
    "accept": _accept,
    "fail": _fail,
    "allow": _allow,
    "deny": _deny,
}
