"""A delivery's receipt stored: the message's outcome, the agent's input unseen or its session
gone, and a task prompt that could not be delivered handed to the task's lifecycle
(``TaskOnFailedPrompt``: core.assignment fills it, above this feature; the task's attempts
are core.tasks')."""

from __future__ import annotations

from typing import Protocol

from core.agent_state import AgentState, Observation, Signal
from core.agents import alerts
from core.agents import signals as agent_signals
from core.context import Ctx
from core.delivery import _messages as messages
from core.models import Agent, Delivery, DeliveryState, Receipt, TaskStatus
from core.store.conn import Conn
from core.tasks import attempts_of

# a tmux delivery's reason when the agent's CLI shows neither its input nor work
# (automation.failures.Failure.NOT_AT_INPUT's words)
INPUT_NOT_ON_PANE = "its input is not on its pane"


class TaskOnFailedPrompt(Protocol):
    """What a task prompt that could not be delivered does to its task (the lifecycle's
    ``release`` and ``finish_failed``, the leases' ``backoff``), in the receipt's
    transaction."""

    def release(
        self, conn: Conn, ctx: Ctx, task_id: int, why: str, backoff: float, *, counts: bool = True
    ) -> None:
        """Take the task back from its agent and queue it again after ``backoff`` s."""

    def finish_failed(
        self, conn: Conn, ctx: Ctx, task_id: int, agent: str | None, reason: str
    ) -> None:
        """Mark the task failed for ``reason``."""

    def backoff(self, ctx: Ctx, attempts: int) -> float:
        """The delay before the task's next attempt."""


def record_receipt(
    conn: Conn,
    ctx: Ctx,
    delivery: Delivery,
    receipt: Receipt,
    tasks: TaskOnFailedPrompt,
    *,
    delivering: bool = False,
) -> DeliveryState:
    """Store a delivery's outcome; a task prompt that could not be delivered is requeued or
    failed by ``tasks`` (``delivering``: as in ``messages.finish``)."""
    state = messages.finish(conn, ctx, delivery, receipt, delivering=delivering)
    if not receipt.ok and not receipt.deferred and receipt.reason == INPUT_NOT_ON_PANE:
        hold_input_unseen(conn, ctx, delivery)
    elif receipt.ok:
        through = f"a delivery to {delivery.agent} got through"
        for kind in (alerts.INPUT_UNSEEN, alerts.MESSAGES_WAIT):
            alerts.clear_alert(conn, ctx, delivery.agent, kind, through)
    failed = state is DeliveryState.failed
    if receipt.gone and state in (DeliveryState.failed, DeliveryState.queued):
        _gone(conn, ctx, delivery, receipt, waits=not failed)
    if failed and delivery.task_id is not None and messages.is_prompt(delivery.target):
        row = attempts_of(conn, delivery.task_id)
        held = row is not None and row.assignee == delivery.agent
        if row is not None and held and row.status == TaskStatus.assigned:
            why = f"could not deliver to {delivery.agent}: {receipt.reason or 'failed'}"
            attempts = row.attempts
            if receipt.gone:  # no try of the task: it waits for the agent, or goes elsewhere
                tasks.release(conn, ctx, delivery.task_id, why, backoff=0.0, counts=False)
            elif attempts >= row.max_attempts:
                tasks.finish_failed(
                    conn, ctx, delivery.task_id, None, f"{why} ({attempts} attempts)"
                )
            else:
                delay = tasks.backoff(ctx, attempts)
                tasks.release(conn, ctx, delivery.task_id, why, backoff=delay)
    return state


def _gone(conn: Conn, ctx: Ctx, delivery: Delivery, receipt: Receipt, *, waits: bool) -> None:
    """The deliverer found the agent's pane (or protocol host) gone: the agent is offline
    from now (as its watcher would say), so it gets no task until a look sees it back. A
    message that ``waits`` for it (``messages.finish``) is told by one ``messages-wait``
    alert for all of them, not an item each."""
    signal = Signal.PROTOCOL if receipt.method == "protocol" else Signal.TEXT
    agent, why = delivery.agent, receipt.reason or "its session is gone"
    evidence = f"{signal.value}: {why}"
    agent_signals.record(conn, Observation(agent, signal, AgentState.OFFLINE, ctx.now, evidence))
    agent_signals.set_state(conn, agent, AgentState.OFFLINE, ctx.now, signal, evidence)
    if waits:
        alerts.open_alert(conn, ctx, agent, alerts.MESSAGES_WAIT, (
            f"{agent} is offline ({why}): messages to it wait, and are delivered once its "
            f"session is back ({up_command(ctx.agents.get(agent))} starts it again)"
        ))  # fmt: skip


def up_command(agent: Agent | None) -> str:
    """The command that starts ``agent``'s session again on its route."""
    route = agent.delivery if agent is not None else ""
    return {"protocol": "swarm desktop up --protocol", "tmux": "swarm desktop up --headless"}.get(
        route, "swarm desktop up"
    )


def hold_input_unseen(conn: Conn, ctx: Ctx, delivery: Delivery) -> None:
    """A delivery found the agent's input not on its pane (its CLI shows a screen that is
    not its input, or no CLI): at the first such failure it gets no new task, and one
    ``input-unseen`` alert says so, until its pane shows its input again (the text
    watcher clears it) or a delivery gets through."""
    agent = delivery.agent
    alerts.open_alert(conn, ctx, agent, alerts.INPUT_UNSEEN, (
        f"{agent}: {INPUT_NOT_ON_PANE} (a delivery could not type its prompt); it gets no "
        f"new task until swarm sees its input again: look at its terminal (swarm attach "
        f"{agent})"
    ), delivery.task_id)  # fmt: skip
