"""The delivery queue with the scheduling decisions (``service.queue``): ready tasks handed
to agents and expired leases, each one transaction, beside core.delivery's claims and
receipts (``DeliveryBook``; the composition root gives it the lifecycle's side of a task
prompt that could not be delivered, ``leases.OnFailedPrompt``)."""

from __future__ import annotations

from core.assignment import _leases as leases
from core.assignment import _passes as assignment
from core.assignment import _queries as queries
from core.delivery import DeliveryBook


class QueueBook(DeliveryBook):
    """Ready tasks to agents, and deliveries from queued to their receipt."""

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

    async def next_deadline(self) -> float | None:
        """When the next lease, backoff or delayed delivery falls due."""
        return await self.access.read(queries.next_deadline, self.access.clock.now())
