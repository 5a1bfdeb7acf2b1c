"""A turn's outcome and the two sides a host joins: the ``Driver`` that speaks the agent's
protocol (``acp_driver``, ``stream_json``) and the ``Callbacks`` of the host it reports to."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from pydantic import BeforeValidator, Field, PlainValidator

from core.hosts.fields import Text, text
from core.hosts.model import Message
from core.hosts.permission import RequestOption

log = logging.getLogger(__name__)

TOTAL_COST = "total_cost_usd"  # a turn end's meta: its session's running total (Claude Code)
# an update: the agent retries a failed API call (its ``error_status``, ``attempt``,
# ``max_retries``, ``retry_delay_ms``, ``error``: Claude Code's stream-json says them)
API_RETRY = "api_retry"
# an update: the model's answer began to stream (the agent took the prompt and asked it)
STREAM_START = "stream_start"


@dataclass(frozen=True)
class Ended:
    """How a turn ended: the agent's stop reason, its usage and cost when it says them."""

    stop_reason: str
    usage: dict[str, Any] | None = None
    cost_usd: float | None = None
    meta: Any = None


class TurnFailed(Exception):
    """The agent answered the prompt with an error (an API error, a limit)."""

    def __init__(self, message: str, code: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class Driver(Protocol):
    """One agent protocol spoken to the agent process (``acp_driver``, ``stream_json``)."""

    process: asyncio.subprocess.Process | None
    session: str | None

    async def start(self) -> None:
        """Start the agent and open (or load) its session."""
        ...

    async def prompt(self, text: str) -> Ended:
        """One turn; TurnFailed when the agent answers it with an error."""
        ...

    async def cancel(self) -> None:
        """Stop the running turn."""
        ...

    async def new_session(self) -> None:
        """A new session: the agent's context cleared."""
        ...

    async def close(self) -> None:
        """Release the connection (after the process ended)."""
        ...


class Callbacks(Protocol):
    """What a driver tells its host (``automation.protocol.host.Host``)."""

    agent: str

    async def ask(
        self, title: str, kind: str, tool: Any, options: Sequence[Mapping[str, str] | RequestOption]
    ) -> str | None:
        """A permission request (its ``options`` as the driver has them, read as the
        journal's ``RequestOption``); the chosen option's id (None: cancelled)."""
        ...

    def on_update(self, kind: str, **words: Any) -> None:
        """One update of the agent's (its text, a tool call, a plan)."""
        ...

    def saved_session(self) -> str | None:
        """The session to load again, if any."""
        ...

    def session_spent(self, session: str) -> float:
        """``session``'s running total cost as its last turn's end said (0: none did)."""
        ...

    def on_session(self, session: str, loaded: bool, lost: str | None = None) -> None:
        """A session opened (``lost``: the saved session it replaced, not loaded)."""
        ...

    def on_bad_line(self, why: str) -> None:
        """The agent wrote a line its protocol cannot take (``why``: what, in words); the
        connection goes on."""
        ...

    def on_output_end(self, process: asyncio.subprocess.Process) -> None:
        """The agent ``process`` closed its output: nothing more can come from it."""
        ...


def _words(value: Any) -> tuple[str, ...]:
    return tuple(text(word) for word in value) if isinstance(value, list | tuple) else ()


def _variables(value: Any) -> dict[str, str]:
    return {text(k): text(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


class McpEntry(Message):
    """One MCP server of the agent's session as swarm hands it to its host (``--mcp``): its
    ``name``, ``command``, ``args`` and ``env``."""

    name: Text = ""
    command: Text = ""
    args: Annotated[tuple[str, ...], BeforeValidator(_words)] = ()
    env: Annotated[Mapping[str, str], PlainValidator(_variables)] = Field(default_factory=dict)


@dataclass
class Launched:
    """What a driver is given (the host it reports to, the agent's command, folder, MCP
    servers and environment) and what it holds once started (the process, the session)."""

    host: Callbacks
    command: list[str]
    cwd: str
    mcp: list[Any]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    session: str | None = None
    nice: int = 0  # how much lower the agent's CPU priority is than the host's


def lower_priority(pid: int, by: int) -> None:
    """Run the agent process ``pid`` (and what it starts after) ``by`` below the host's CPU
    priority, at most at the lowest (nice 19); a system that refuses is logged, and the
    agent runs as it is."""
    if by <= 0:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + by))
    except OSError as exc:
        log.warning("the agent's CPU priority was not lowered (pid %s): %s", pid, exc)
