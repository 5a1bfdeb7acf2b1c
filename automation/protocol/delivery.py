"""Delivery to protocol agents (``delivery = "protocol"``): nothing typed, nothing read from a
screen. A prompt goes to the agent's host (``core.hosts``) as an ACP ``session/prompt``, and is
delivered when the agent accepted it (its first update of the turn, or its answer). A host
whose agent is in a turn refuses it as busy: deferred, retried without using a try, delivered
once the turn ended (nothing is ever put into a running turn). A delivery id the host took
before is accepted again without a second prompt (a retry after a lost answer). A reset is a
new session; a withdrawal cancels the running turn (``session/cancel``, Claude Code's
``interrupt``: the host answers once the turn ended, an ACP turn whose agent does not answer
the cancel ended by the host after ``host.CANCEL_ANSWER_S``) and waits for its end (at most
``STOP_WAIT_S``): it is never held behind the turn it stops, and its notice is not a turn of
its own (a paid request): it goes with the agent's next message (``Receipt.stopped``). A prompt
is answered by the host once its agent took it or ``host.ACCEPT_S`` after it was sent, so a
withdrawal is not held behind a model that has not spoken yet. A decided permission prompt's
answer goes back as the request's response (``answer``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from automation.protocol.host import ACCEPT_S
from core.hosts import client
from core.hosts.entries import Answer
from core.hosts.replies import Failed
from core.models import Agent, Receipt
from core.protocols import Parcel

log = logging.getLogger(__name__)
METHOD = "protocol"
STOP_WAIT_S = 15.0  # a cancelled turn's end, waited for by a withdrawal


class ProtocolDeliverer:
    """A Deliverer (parallel: each agent has its own host) for the protocol agents."""

    def __init__(self, home: Path) -> None:
        self.home = home

    @property
    def time_limit_s(self) -> float:
        """The wait for a cancelled turn's end, the host's own wait for the agent to accept a
        prompt, and a margin."""
        return STOP_WAIT_S + ACCEPT_S + 10.0

    def parallel(self, agent: Agent) -> bool:
        """Every host takes its agent's deliveries beside the others'."""
        return True

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Deliver once through the agent's host."""
        started = time.perf_counter()
        agent = parcel.agent.id
        try:
            if parcel.reset:
                answer: client.Reply = await client.new_session(self.home, agent, self.wait_s)
            elif parcel.withdraw and await self._stop_turn(agent):  # notice: the next message
                log.info("withdrawal %s from %s: its turn stopped", parcel.delivery_id, agent)
                return Receipt.stopped(METHOD)
            else:  # (a turn not ended within STOP_WAIT_S: the notice refused as busy, retried)
                answer = await client.prompt(
                    self.home, agent, parcel.delivery_id, parcel.text, self.wait_s
                )
        except client.HostUnreachable as exc:  # gone: the agent is offline until it is back
            return Receipt.failed(str(exc), METHOD, gone=exc.gone)
        ms = (time.perf_counter() - started) * 1000
        what = f"delivery {parcel.delivery_id} to {agent} (protocol)"
        if isinstance(answer, Failed):
            reason = answer.reason or "refused"
            log.info("%s: not delivered (%s)", what, reason)
            return Receipt.failed(reason, METHOD, deferred=answer.busy)
        again = " (taken before)" if isinstance(answer, client.Taken) and answer.again else ""
        log.info("%s: accepted in %.0f ms%s", what, ms, again)
        return Receipt.delivered(METHOD)

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """A decided permission prompt's option, as the agent's request's response."""
        try:
            said = Answer(request=request, option=option)
            answer = await client.answer(self.home, agent.id, said, self.wait_s)
        except client.HostUnreachable as exc:
            return Receipt.failed(str(exc), METHOD)
        if isinstance(answer, Failed):
            return Receipt.failed(answer.reason or "refused", METHOD, retryable=False)
        return Receipt.delivered(METHOD)

    async def _stop_turn(self, agent: str) -> bool:
        """Cancel the running turn and wait for its end (at most ``STOP_WAIT_S``): whether
        no turn runs now (the host refusing the cancel: as before, the notice is sent)."""
        cancelled = await client.cancel(self.home, agent, self.wait_s)
        if isinstance(cancelled, Failed):
            return False
        if not cancelled.running:
            return True
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline:
            if not (await client.hello(self.home, agent, self.wait_s)).busy:
                return True
            await asyncio.sleep(0.05)
        return False

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Nothing is typed into a protocol agent."""
        return Receipt.failed("a protocol agent takes no keys", METHOD, retryable=False)

    @property
    def wait_s(self) -> float:
        """A host's answer, at most."""
        return self.time_limit_s

    def close(self) -> None:
        """Nothing held between deliveries."""
