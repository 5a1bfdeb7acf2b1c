"""What a route does through the deliverer it wraps (``core.protocols.Route``): its deadline,
its lanes, its deliveries, its close. Each route adds what is its own: the agents it takes,
answers, keys, stopping a turn."""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from core.models import Agent, Receipt
from core.protocols import Parcel


class Wrapped(Protocol):
    """A deliverer a route wraps."""

    @property
    def time_limit_s(self) -> float:
        """Its deadline for one delivery."""
        ...

    def parallel(self, agent: Agent) -> bool:
        """Whether ``agent``'s deliveries run beside the others'."""
        ...

    async def deliver(self, parcel: Parcel) -> Receipt:
        """One delivery."""
        ...

    def close(self) -> None:
        """Release what it holds."""
        ...


D = TypeVar("D", bound=Wrapped)


class DelivererRoute(Generic[D]):
    """A route's part that is its deliverer's."""

    def __init__(self, deliverer: D) -> None:
        self.deliverer = deliverer

    @property
    def time_limit_s(self) -> float:
        """The deliverer's deadline."""
        return self.deliverer.time_limit_s

    def parallel(self, agent: Agent) -> bool:
        """As the deliverer says."""
        return self.deliverer.parallel(agent)

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Through the deliverer."""
        return await self.deliverer.deliver(parcel)

    def close(self) -> None:
        """The deliverer's close."""
        self.deliverer.close()
