"""ACP (Zed's Agent Client Protocol) spoken to the agent through the ACP Python SDK: Gemini CLI
(``--acp``), opencode (``acp``), Codex (``codex-acp``). The SDK does the JSON-RPC framing; this
is the client's side: ``initialize``, ``session/new`` or ``session/load``, ``session/prompt``,
``session/cancel``, and the agent's ``session/update`` and ``session/request_permission``
handed to the host. The client offers no files and no terminals: the agent uses its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from core.hosts import lines
from core.hosts.turns import Ended, Launched, TurnFailed, lower_priority

if TYPE_CHECKING:
    from acp import Client, ClientSideConnection

log = logging.getLogger(__name__)
FORWARDED_PREFIXES = ("SWARM_", "PG")  # what swarm's MCP server needs to reach the store
CALLS_KEPT = 64  # the latest tool calls announced, by id: a request may name only its id


class AcpDriver:
    """The agent over ACP."""

    def __init__(self, launched: Launched) -> None:
        self.launched = launched
        self.host, self.env, self.cwd, self.mcp = (
            launched.host, launched.env, launched.cwd, launched.mcp,
        )  # fmt: skip
        self.command = list(launched.command)
        self.nice = launched.nice
        self.process: asyncio.subprocess.Process | None = None
        self.session: str | None = None
        self.conn: ClientSideConnection | None = None
        self.can_load = False
        self._spawned: Any = None
        self.transport: lines.GuardedTransport | None = None
        self.calls: dict[str, Any] = {}

    async def start(self) -> None:
        """Spawn the agent, ``initialize``, and load the session it had or open a new one."""
        from acp import PROTOCOL_VERSION
        from acp.schema import ClientCapabilities, Implementation

        spawned = self._connected()
        self._spawned = spawned  # held: the connection lives as long as this context
        self.conn, self.process = await spawned.__aenter__()
        lower_priority(self.process.pid, self.nice)
        started = await self.conn.initialize(
            protocol_version=PROTOCOL_VERSION,
            client_capabilities=ClientCapabilities(),
            client_info=Implementation(name="swarm", version="1"),
        )
        caps = started.agent_capabilities
        self.can_load = bool(caps is not None and caps.load_session)
        await self._open(self.host.saved_session())

    @contextlib.asynccontextmanager
    async def _connected(self) -> AsyncIterator[tuple[ClientSideConnection, Process]]:
        """The agent process and the SDK's connection to it over ``lines.GuardedTransport``
        (what the agent writes read bounded; a line that is no JSON-RPC object said and
        skipped, never the connection's end)."""
        from acp import ClientSideConnection
        from acp.transports import spawn_stdio_transport

        client = cast("Client", self)  # the callbacks an ACP client needs (no files, terminals)
        async with spawn_stdio_transport(
            self.command[0], *self.command[1:], cwd=self.cwd,
            env=self.env,  # the SDK's default is a minimal one: the user's, whole
            limit=lines.AGENT_LINE_LIMIT, stderr=None,  # its log: the host's
        ) as (reader, writer, process):  # fmt: skip
            self.transport = lines.GuardedTransport(
                reader, writer, self.host.on_bad_line, lambda: self.host.on_output_end(process)
            )
            conn = ClientSideConnection(lambda _agent: client, self.transport)
            try:
                yield conn, process
            finally:
                await conn.close()

    async def _open(self, load: str | None) -> None:
        assert self.conn is not None
        servers = [_mcp_server(entry, self.env) for entry in self.mcp]
        if load is not None and self.can_load:
            try:
                await self.conn.load_session(cwd=self.cwd, session_id=load, mcp_servers=servers)
            except Exception as exc:  # a session the CLI no longer has: a new one
                log.warning("host %s: session %s not loaded: %r", self.host.agent, load, exc)
            else:
                self.session = load
                self.host.on_session(load, loaded=True)
                return
        made = await self.conn.new_session(cwd=self.cwd, mcp_servers=servers)
        self.session = made.session_id
        self.host.on_session(made.session_id, loaded=False, lost=load)

    async def prompt(self, text: str) -> Ended:
        """``session/prompt``: the turn, until its stop reason."""
        from acp import RequestError, text_block

        assert self.conn is not None and self.session is not None
        try:
            answer = await self.conn.prompt(session_id=self.session, prompt=[text_block(text)])
        except RequestError as exc:
            raise TurnFailed(str(exc), exc.code, exc.data) from None
        usage = answer.usage.model_dump(by_alias=True) if answer.usage is not None else None
        return Ended(str(answer.stop_reason), usage, None, answer.field_meta)

    async def cancel(self) -> None:
        """``session/cancel``."""
        if self.conn is not None and self.session is not None:
            await self.conn.cancel(session_id=self.session)

    async def new_session(self) -> None:
        """``session/new``."""
        await self._open(None)

    async def close(self) -> None:
        """Close the SDK's connection and transport."""
        spawned, self._spawned = self._spawned, None
        if spawned is not None:
            with contextlib.suppress(Exception):
                await spawned.__aexit__(None, None, None)

    # the ACP client's callbacks

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[Any], **_: Any
    ) -> Any:
        """The agent asks: the host waits for swarm's choice, sent back as the response."""
        from acp.schema import AllowedOutcome, DeniedOutcome, RequestPermissionResponse

        # its tool call is an update of the one announced (Mistral Vibe's: the id alone)
        known = self.calls.get(tool_call.tool_call_id)
        said, asked = _plain(known) if known else {}, _plain(tool_call)
        tool = {**said, **asked} if isinstance(said, dict) and isinstance(asked, dict) else asked
        if isinstance(tool, dict):
            tool.pop("sessionUpdate", None)
        title = tool_call.title or getattr(known, "title", None) or ""
        kind = tool_call.kind or getattr(known, "kind", None) or ""
        chosen = await self.host.ask(
            title, str(kind), tool,
            [{"id": o.option_id, "name": o.name, "kind": str(o.kind)} for o in options],
        )  # fmt: skip
        if chosen is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=chosen)
        )

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        """One ``session/update``, in words, to the host."""
        if getattr(update, "session_update", None) == "tool_call":
            self.calls[update.tool_call_id] = update
            while len(self.calls) > CALLS_KEPT:
                del self.calls[next(iter(self.calls))]
        self.host.on_update(
            getattr(update, "session_update", type(update).__name__), **_words(update)
        )


def _mcp_server(entry: dict[str, Any], agent_env: Mapping[str, str]) -> Any:
    """An MCP server of the session, given swarm's variables (``SWARM_*``) and libpq's
    (``PG*``) from the agent's environment, under the entry's own ``env``. Claude Code, Gemini
    CLI and opencode give their servers the agent's whole environment; Codex (through
    codex-acp) only HOME, PATH, LANG, TERM and the entry's ``env``: swarm's server on a
    PostgreSQL swarm (``SWARM_DATABASE_URL``, never put on a command line) opened another
    store, and every ``report`` said the agent held no task."""
    from acp.schema import EnvVariable, McpServerStdio

    merged = {k: v for k, v in agent_env.items() if k.startswith(FORWARDED_PREFIXES)}
    merged |= dict(entry.get("env") or {})
    env = [EnvVariable(name=k, value=v) for k, v in merged.items()]
    return McpServerStdio(
        name=str(entry["name"]), command=str(entry["command"]),
        args=[str(a) for a in entry.get("args") or ()], env=env,
    )  # fmt: skip


def _plain(model: Any) -> Any:
    """A pydantic model as JSON-able data (its wire names)."""
    try:
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
    except Exception:  # anything the schema did not foresee is kept as its text
        return repr(model)


def _words(update: Any) -> dict[str, Any]:
    """What one update says, for the transcript: its text, a tool call's title and status,
    a plan's entries, a usage update's figures."""
    found: dict[str, Any] = {}
    content = getattr(update, "content", None)
    text = getattr(content, "text", None)
    if isinstance(text, str):
        found["text"] = text
    for name in ("title", "status", "tool_call_id", "kind"):
        value = getattr(update, name, None)
        if value is not None and not isinstance(value, (dict, list)):
            found[name if name != "kind" else "tool_kind"] = str(value)
    entries = getattr(update, "entries", None)
    if isinstance(entries, list):
        found["plan"] = [getattr(e, "content", "") for e in entries]
    if type(update).__name__ == "UsageUpdate":
        found["usage"] = _plain(update)
    return found
