"""The delivery queue as the scheduler and delivery nodes use it: assignment decisions,
lease expiry, claims, receipts, recovery and the next deadline, each one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from core.context import Ctx
from core.delivery import assign_queries, assignment, claim_queries
from core.delivery.onboarding import record_receipt_onboarded
from core.delivery.prompt import PromptFacts, facts_from
from core.errors import Transient
from core.models import Delivery, Receipt
from core.store.access import StoreAccess
from core.store.conn import Conn
from core.tasks import leases, messages
from core.waits import ErrorBackoff

log = logging.getLogger(__name__)
T = TypeVar("T")
RECEIPT_RETRY_FIRST_S = 0.05  # then doubled per try, up to
RECEIPT_RETRY_MAX_S = 5.0


class DeliveryBook:
    """Ready tasks to agents, and deliveries from queued to their receipt."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def assign_next(self, actor: str = "scheduler") -> assignment.Assignment | None:
        """One assignment decision."""
        return await self.access.write(actor, assignment.assign_next)

    async def assign_batch(self, actor: str = "scheduler") -> list[assignment.Assignment]:
        """Assignment decisions until nothing more fits, in one transaction."""
        return await self.access.write(actor, assignment.assign_batch)

    async def expire_then_assign(
        self, actor: str = "scheduler"
    ) -> tuple[int, list[assignment.Assignment]]:
        """Expire due leases, then one assignment pass: one transaction."""
        return await self.access.write(actor, assignment.expire_then_assign)

    async def expire_leases(self, actor: str = "scheduler") -> int:
        """Requeue or fail tasks whose lease ran out."""
        return await self.access.write(actor, leases.expire_leases)

    async def hand_back(
        self, agent: str, why: str, actor: str, before: float | None = None
    ) -> list[int]:
        """The tasks ``agent`` holds back in the queue at once (its session ended; a fresh
        one started at ``before``: those its old session had)."""
        return await self.access.write(actor, leases.hand_back, agent, why, before)

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
        return await self._until_written(actor, delivery, _receipt(onboarded), delivery, receipt)

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
        return await self._until_written(
            actor, delivery, _receipt_then_claim, _receipt(onboarded), delivery, receipt
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

    async def next_deadline(self) -> float | None:
        """When the next lease, backoff or delayed delivery falls due."""
        return await self.access.read(assign_queries.next_deadline, self.access.clock.now())

    async def data_version(self) -> int:
        """Changes when another connection (another process) commits."""
        return await self.access.read(_data_version)


def _data_version(conn: Conn) -> int:
    return conn.data_version()


def _receipt(onboarded: bool) -> Callable[..., str]:
    """The store function that records a receipt (with the onboarding, if it carried it)."""

    return record_receipt_onboarded if onboarded else assignment.record_receipt


def _receipt_then_claim(
    conn: Conn,
    ctx: Ctx,
    record: Callable[..., str],
    delivery: Delivery,
    receipt: Receipt,
) -> tuple[Delivery, PromptFacts | None] | None:
    record(conn, ctx, delivery, receipt)
    return _claim_with_facts(conn, ctx)


def _claim_with_facts(
    conn: Conn, ctx: Ctx, busy: Collection[str] = ()
) -> tuple[Delivery, PromptFacts | None] | None:
    conn.flush_events()  # FACT_COLUMNS read events; the prompt's flags in the same read
    found = messages.claim_row(conn, ctx, claim_queries.FACT_COLUMNS, busy)
    if found is None:
        return None
    delivery, extra = found
    flags = claim_queries.PromptFlags.of(extra)
    return delivery, facts_from(conn, delivery, flags.fresh_agent, flags.handed_over)
