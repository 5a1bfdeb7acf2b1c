"""Failures injected at chosen requests, to test a client at the exact point where a call
and what it records can part: an answer lost after the request took effect (a gateway
error, a timeout), a request refused before it did anything, a caller cut off mid-call."""

from __future__ import annotations

import asyncio
import fnmatch
from dataclasses import dataclass, field

from localgithub.errors import ApiError

MESSAGES = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}


@dataclass
class Fault:
    """A failure at the next ``times`` requests whose method is ``method`` and whose API path
    (without ``/api/v3``) matches the glob ``path``.

    ``after`` (the default): the request takes effect, then its answer is ``status`` (an
    answer lost on the way back); else it is refused with ``status`` before doing anything.
    ``hang`` (with ``after``): the answer never comes until :meth:`release` (or the server
    closes); the caller times out or is killed. ``reached`` is set when a caught request has
    taken effect (``after``) or was refused.
    """

    method: str
    path: str
    status: int = 502
    after: bool = True
    hang: bool = False
    times: int = 1
    hits: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, path: str) -> bool:
        """True when a request of ``method`` on ``path`` is one this fault still catches."""
        return (
            self.hits < self.times
            and method.upper() == self.method.upper()
            and fnmatch.fnmatchcase(path, self.path)
        )

    def catch(self) -> None:
        """Count a caught request (``reached`` is set once it has had its effect, if any)."""
        self.hits += 1

    def error(self) -> ApiError:
        """The answer the caller gets instead of the real one."""
        return ApiError(self.status, MESSAGES.get(self.status, "Injected failure"))

    def release(self) -> None:
        """Let a hanging answer go (as the injected error)."""
        self.released.set()


class Faults:
    """The server's injected failures, first added first matched."""

    def __init__(self) -> None:
        self.items: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Catch requests with ``fault`` from now on."""
        self.items.append(fault)
        return fault

    def match(self, method: str, path: str) -> Fault | None:
        """The first fault that catches this request, counted; None if none does."""
        for fault in self.items:
            if fault.matches(method, path):
                fault.catch()
                return fault
        return None

    def release_all(self) -> None:
        """Let every hanging answer go (the server is closing)."""
        for fault in self.items:
            fault.release()
