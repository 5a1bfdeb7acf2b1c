"""The delivery queue as the scheduler and delivery nodes use it: claims, receipts,
recovery and the next deadline, each one transaction (the assignment decisions and lease
expiry are core.assignment._scheduling's, on the same book)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from core.context import Ctx
from core.delivery import _claim_queries as claim_queries
from core.delivery import _messages as messages
from core.delivery._onboarding import record_receipt_onboarded
from core.delivery._prompt import PromptFacts, facts_from
from core.delivery._receipts import TaskOnFailedPrompt, record_receipt
from core.errors import Transient
from core.models import Delivery, Receipt
from core.store.access import StoreAccess
from core.store.conn import Conn
from core.waits import ErrorBackoff

log = logging.getLogger(__name__)
T = TypeVar("T")
RECEIPT_RETRY_FIRST_S = 0.05  # then doubled per try, up to
RECEIPT_RETRY_MAX_S = 5.0


class DeliveryBook:
    """Deliveries from queued to their receipt (``on_failed_prompt``: what a task prompt that
    could not be delivered does to its task)."""

    def __init__(self, access: StoreAccess, on_failed_prompt: TaskOnFailedPrompt) -> None:
        self.access = access
        self.on_failed_prompt = on_failed_prompt

    async def claim_delivery(self, actor: str = "delivery") -> Delivery | None:
        """Take the next due delivery."""
        return await self.access.write(actor, messages.claim)

    async def claim_prompt(
        self, actor: str = "delivery", busy: Collection[str] = ()
    ) -> tuple[Delivery, PromptFacts | None] | None:
        """Take the next due delivery with what its prompt needs (one trip to the database),
        not one of the ``busy`` agents'; None at once when delivery nodes serve every agent
        (nothing is this process's)."""
        if all(a.node for a in self.access.agents.values()):
            return None
        return await self.access.write(actor, _claim_with_facts, busy)

    async def record_receipt(
        self,
        delivery: Delivery,
        receipt: Receipt,
        actor: str = "delivery",
        *,
        onboarded: bool = False,
    ) -> str:
        """Store how a delivery went (``onboarded``: it carried its agent's onboarding). A
        database that stays locked (or full) past the busy timeout is retried with backoff
        until the receipt lands: a delivery this process owns never stays ``delivering``
        without an outcome."""
        record = _receipt(onboarded)
        return await self._until_written(
            actor, delivery, record, delivery, receipt, self.on_failed_prompt
        )

    async def receipt_then_claim(
        self,
        delivery: Delivery,
        receipt: Receipt,
        actor: str = "delivery",
        *,
        onboarded: bool = False,
    ) -> tuple[Delivery, PromptFacts | None] | None:
        """``record_receipt``, then ``claim_prompt``, in one transaction: one commit and one
        trip to the database instead of two for each delivery of a run of them."""
        if all(a.node for a in self.access.agents.values()):
            await self.record_receipt(delivery, receipt, actor, onboarded=onboarded)
            return None
        record = _receipt(onboarded)
        return await self._until_written(
            actor, delivery, _receipt_then_claim, record, delivery, receipt, self.on_failed_prompt
        )

    async def _until_written(
        self, actor: str, delivery: Delivery, fn: Callable[..., T], *args: Any
    ) -> T:
        """``access.write(actor, fn, *args)``, retried with backoff while the database is
        locked (or full): the receipt of ``delivery`` must land."""
        backoff = ErrorBackoff(RECEIPT_RETRY_FIRST_S, RECEIPT_RETRY_MAX_S)
        while True:
            try:
                return await self.access.write(actor, fn, *args)
            except Transient as exc:
                delay = backoff.failed()
                log.warning(
                    "receipt of delivery %d not written (%s); retrying in %.2g s",
                    delivery.id,
                    exc,
                    delay,
                )
            await asyncio.sleep(delay)

    async def recover(self, actor: str = "swarm") -> int:
        """Put interrupted deliveries back in the queue (start-up after a crash)."""
        return await self.access.write(actor, messages.recover)

    async def data_version(self) -> int:
        """Changes when another connection (another process) commits."""
        return await self.access.read(_data_version)


def _data_version(conn: Conn) -> int:
    return conn.data_version()


def _receipt(onboarded: bool) -> Callable[..., str]:
    """The store function that records a receipt (with the onboarding, if it carried it)."""

    return record_receipt_onboarded if onboarded else record_receipt


def _receipt_then_claim(
    conn: Conn,
    ctx: Ctx,
    record: Callable[..., str],
    delivery: Delivery,
    receipt: Receipt,
    tasks: TaskOnFailedPrompt,
) -> tuple[Delivery, PromptFacts | None] | None:
    record(conn, ctx, delivery, receipt, tasks)
    return _claim_with_facts(conn, ctx)


def _claim_with_facts(
    conn: Conn, ctx: Ctx, busy: Collection[str] = ()
) -> tuple[Delivery, PromptFacts | None] | None:
    conn.flush_events()  # the facts' columns read events; the prompt's flags in the same read
    found = messages.claim_row(conn, ctx, claim_queries.OLDEST_DUE_WITH_FACTS, busy)
    if found is None:
        return None
    delivery, extra = found
    flags = claim_queries.PromptFlags.of(extra)
    return delivery, facts_from(conn, delivery, flags.fresh_agent, flags.handed_over)
