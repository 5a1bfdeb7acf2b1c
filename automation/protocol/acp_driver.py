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
from typing import Any, TypeAlias

from acp import PROTOCOL_VERSION, Client, RequestError, connect_to_agent, text_block
from acp.core import ClientSideConnection
from acp.interfaces import Agent
from acp.meta import CLIENT_METHODS
from acp.schema import (
    AcpMcpServer,
    AgentMessageChunk,
    AgentPlanContentUpdate,
    AgentPlanRemovedUpdate,
    AgentPlanUpdate,
    AgentThoughtChunk,
    AllowedOutcome,
    AvailableCommandsUpdate,
    ClientCapabilities,
    ConfigOptionUpdate,
    ContentToolCallContent,
    CreateElicitationResponse,
    CreateTerminalResponse,
    CurrentModeUpdate,
    DeniedOutcome,
    ElicitationMode,
    EnvVariable,
    HttpMcpServer,
    Implementation,
    KillTerminalResponse,
    McpServerStdio,
    PermissionOption,
    ReadTextFileResponse,
    ReleaseTerminalResponse,
    RequestPermissionResponse,
    SessionConfigOptionBoolean,
    SessionConfigOptionSelect,
    SessionInfoUpdate,
    SessionNotification,
    SseMcpServer,
    TerminalOutputResponse,
    TextContentBlock,
    ToolCallProgress,
    ToolCallStart,
    ToolCallUpdate,
    UsageUpdate,
    UserMessageChunk,
    WaitForTerminalExitResponse,
    WriteTextFileResponse,
)
from acp.transports import spawn_stdio_transport
from pydantic import BaseModel, ValidationError

from core.formats.text import one_line, shorten
from core.hosts import lines, wire
from core.hosts.bodies import OUTPUT_MAX
from core.hosts.permission import RequestOption, with_a_no
from core.hosts.turns import Callbacks, Ended, Launched, McpEntry, TurnFailed, lower_priority
from core.sandbox import DOOR_AT

log = logging.getLogger(__name__)
FORWARDED_PREFIXES = ("SWARM_", "PG")  # what swarm's MCP server needs to reach the store
SESSION_UPDATE = CLIENT_METHODS["session_update"]  # the agent's notification of its work
CALLS_KEPT = 64  # the latest tool calls announced, by id: a request may name only its id
# one ``session/update``: the classes of the SDK's schema (``SessionNotification.update``)
SessionUpdate: TypeAlias = (
    UserMessageChunk
    | AgentMessageChunk
    | AgentThoughtChunk
    | ToolCallStart
    | ToolCallProgress
    | AgentPlanUpdate
    | AgentPlanContentUpdate
    | AgentPlanRemovedUpdate
    | AvailableCommandsUpdate
    | CurrentModeUpdate
    | ConfigOptionUpdate
    | SessionInfoUpdate
    | UsageUpdate
)
# an MCP server of a session, as ``session/new`` and ``session/load`` take it
McpServer: TypeAlias = HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio
Spawned: TypeAlias = contextlib.AbstractAsyncContextManager[tuple[ClientSideConnection, Process]]


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
        self.client = AcpClient(self.host)
        self.can_load = False
        self._spawned: Spawned | None = None
        self.transport: lines.GuardedTransport | None = None

    async def start(self) -> None:
        """Spawn the agent, ``initialize``, and load the session it had or open a new one."""
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
        async with spawn_stdio_transport(
            self.command[0], *self.command[1:], cwd=self.cwd,
            env=self.env,  # the SDK's default is a minimal one: the user's, whole
            limit=lines.AGENT_LINE_LIMIT, stderr=None,  # its log: the host's
        ) as (reader, writer, process):  # fmt: skip
            self.transport = lines.GuardedTransport(
                reader, writer, self.host.on_bad_line, lambda: self.host.on_output_end(process),
                check=unknown_update,
            )  # fmt: skip
            conn = connect_to_agent(self.client, self.transport)
            try:
                yield conn, process
            finally:
                await conn.close()

    async def _open(self, load: str | None) -> None:
        assert self.conn is not None
        servers: list[McpServer] = [_mcp_server(entry, self.env) for entry in self.mcp]
        if load is not None and self.can_load:
            try:
                loaded = await self.conn.load_session(
                    cwd=self.cwd, session_id=load, mcp_servers=servers
                )
            except Exception as exc:  # a session the CLI no longer has: a new one
                log.warning("host %s: session %s not loaded: %r", self.host.agent, load, exc)
            else:
                self.client.model = _model(loaded.config_options) if loaded else None
                self.session = load
                self.host.on_session(load, loaded=True)
                return
        made = await self.conn.new_session(cwd=self.cwd, mcp_servers=servers)
        self.client.model = _model(made.config_options)
        self.session = made.session_id
        self.host.on_session(made.session_id, loaded=False, lost=load)

    async def prompt(self, text: str) -> Ended:
        """``session/prompt``: the turn, until its stop reason."""
        assert self.conn is not None and self.session is not None
        try:
            answer = await self.conn.prompt(session_id=self.session, prompt=[text_block(text)])
        except RequestError as exc:
            raise TurnFailed(str(exc), exc.code, exc.data) from None
        usage = answer.usage.model_dump(by_alias=True) if answer.usage is not None else None
        meta = answer.field_meta
        if self.client.model is not None:  # the model its session names (ACP's turn end names none)
            meta = {**(meta or {}), "model": self.client.model}
        return Ended(str(answer.stop_reason), usage, None, meta)

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


class AcpClient(Client):
    """The client's side of the connection, as the SDK calls it: the agent's updates and
    permission requests go to the host. Files, terminals, elicitation and extension requests
    are not served (``initialize`` offers none): each is answered "method not found"; an
    extension notification is ignored."""

    def __init__(self, host: Callbacks) -> None:
        self.host = host
        self.calls: dict[str, ToolCallStart] = {}  # the latest announced, ``CALLS_KEPT``
        self.model: str | None = None  # the session's model, as its config options name it

    async def request_permission(
        self, session_id: str, tool_call: ToolCallUpdate, options: list[PermissionOption],
        **kwargs: Any,
    ) -> RequestPermissionResponse:  # fmt: skip
        """The agent asks: the host waits for swarm's choice, sent back as the response. Its
        tool call is an update of the one it announced: what the request leaves out (Mistral
        Vibe sends the call's id alone) is the announced call's."""
        known = self.calls.get(tool_call.tool_call_id)
        said, asked = (_plain(known) if known else {}), _plain(tool_call)
        tool = {**said, **asked} if isinstance(said, dict) and isinstance(asked, dict) else asked
        if isinstance(tool, dict):
            tool.pop("sessionUpdate", None)
        title = tool_call.title or (known.title if known else "") or ""
        kind = tool_call.kind or (known.kind if known else None) or ""
        offered = [RequestOption(id=o.option_id, name=o.name, kind=str(o.kind)) for o in options]
        chosen = await self.host.ask(title, str(kind), tool, with_a_no(offered))
        if chosen is None or chosen == wire.CANCEL_OPTION:  # a person's no, where none was
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=chosen)
        )

    async def session_update(self, session_id: str, update: SessionUpdate, **kwargs: Any) -> None:
        """One ``session/update``, in words, to the host (a tool call announced is kept for
        the permission request that may name it alone)."""
        if isinstance(update, ToolCallStart):
            self.calls[update.tool_call_id] = update
            while len(self.calls) > CALLS_KEPT:
                del self.calls[next(iter(self.calls))]
        elif isinstance(update, ConfigOptionUpdate):
            self.model = _model(update.config_options) or self.model
        self.host.on_update(update.session_update, **_words(update))

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse | None:
        """Not served: the agent writes its files itself."""
        raise RequestError.method_not_found(CLIENT_METHODS["fs_write_text_file"])

    async def read_text_file(
        self, session_id: str, path: str, line: int | None = None, limit: int | None = None,
        **kwargs: Any,
    ) -> ReadTextFileResponse:  # fmt: skip
        """Not served: the agent reads its files itself."""
        raise RequestError.method_not_found(CLIENT_METHODS["fs_read_text_file"])

    async def create_terminal(
        self, session_id: str, command: str, args: list[str] | None = None,
        env: list[EnvVariable] | None = None, cwd: str | None = None,
        output_byte_limit: int | None = None, **kwargs: Any,
    ) -> CreateTerminalResponse:  # fmt: skip
        """Not served: the agent runs its commands itself."""
        raise RequestError.method_not_found(CLIENT_METHODS["terminal_create"])

    async def terminal_output(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> TerminalOutputResponse:
        """Not served (no terminals)."""
        raise RequestError.method_not_found(CLIENT_METHODS["terminal_output"])

    async def release_terminal(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> ReleaseTerminalResponse | None:
        """Not served (no terminals)."""
        raise RequestError.method_not_found(CLIENT_METHODS["terminal_release"])

    async def wait_for_terminal_exit(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> WaitForTerminalExitResponse:
        """Not served (no terminals)."""
        raise RequestError.method_not_found(CLIENT_METHODS["terminal_wait_for_exit"])

    async def kill_terminal(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> KillTerminalResponse | None:
        """Not served (no terminals)."""
        raise RequestError.method_not_found(CLIENT_METHODS["terminal_kill"])

    async def create_elicitation(
        self, message: str, mode: ElicitationMode, **kwargs: Any
    ) -> CreateElicitationResponse:
        """Not served (the SDK refuses it before: the unstable protocol is off)."""
        raise RequestError.method_not_found(CLIENT_METHODS["elicitation_create"])

    async def complete_elicitation(self, elicitation_id: str, **kwargs: Any) -> None:
        """Not served (the SDK refuses it before: the unstable protocol is off)."""
        raise RequestError.method_not_found(CLIENT_METHODS["elicitation_complete"])

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """An extension request (``_name``): not served."""
        raise RequestError.method_not_found(f"_{method}")

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        """An extension notification (``_name``): ignored."""

    def on_connect(self, conn: Agent) -> None:
        """The connection is made: the driver holds it, nothing to keep here."""


def unknown_update(message: dict[str, Any]) -> str | None:
    """Why ``message`` is a ``session/update`` the SDK cannot take (an update of a kind or a
    shape its schema does not know, which it would drop before the client saw it, with only
    a traceback in the host's log); None: it is none, or one it takes."""
    if message.get("method") != SESSION_UPDATE or "id" in message:
        return None
    try:
        SessionNotification.model_validate(message.get("params"))
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(part) for part in errors[0]["loc"]) if errors else ""
        said = shorten(one_line(f"{where}: {errors[0]['msg']}" if errors else str(exc)), 160)
        return f"a session/update of a shape ACP does not know ({said})"
    return None


def _mcp_server(entry: dict[str, Any], agent_env: Mapping[str, str]) -> McpServerStdio:
    """An MCP server of the session, given swarm's variables (``SWARM_*``) and libpq's
    (``PG*``) from the agent's environment, under the entry's own ``env``. Claude Code, Gemini
    CLI and opencode give their servers the agent's whole environment; Codex (through
    codex-acp) only HOME, PATH, LANG, TERM and the entry's ``env``: swarm's server on a
    PostgreSQL swarm (``SWARM_DATABASE_URL``, never put on a command line) opened another
    store, and every ``report`` said the agent held no task. A sandboxed agent's server, its
    door's (``DOOR_AT``), gets none: the door serves it as that agent outside, and swarm's
    variables (a database URL, a password) never enter the sandbox."""
    said = McpEntry.model_validate(entry)
    fenced = said.command.startswith(DOOR_AT + "/")
    merged = {} if fenced else {k: v for k, v in agent_env.items()
                                if k.startswith(FORWARDED_PREFIXES)}  # fmt: skip
    merged |= said.env
    env = [EnvVariable(name=k, value=v) for k, v in merged.items()]
    return McpServerStdio(name=said.name, command=said.command, args=list(said.args), env=env)


def _model(
    options: list[SessionConfigOptionSelect | SessionConfigOptionBoolean] | None,
) -> str | None:
    """The model a session's config options say it runs: the current value of its option of
    the ``model`` category (Mistral Vibe's: its ``active_model`` alias); None: none says."""
    for option in options or ():
        if isinstance(option, SessionConfigOptionSelect) and option.category == "model":
            return option.current_value[:200] or None
    return None


def _plain(model: BaseModel) -> dict[str, Any] | str:
    """A pydantic model as JSON-able data (its wire names)."""
    try:
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
    except Exception:  # anything the schema did not foresee is kept as its text
        return repr(model)


def _words(update: SessionUpdate) -> dict[str, Any]:
    """What one update says, for the transcript: a message's or thought's text, a tool
    call's title, status, id and kind, a plan's entries, a session's title, a usage
    update's figures; an update of any other class (commands, modes, config options, a
    plan's content or removal) says nothing but its kind."""
    match update:
        case UserMessageChunk() | AgentMessageChunk() | AgentThoughtChunk():
            content = update.content
            return {"text": content.text} if isinstance(content, TextContentBlock) else {}
        case ToolCallStart() | ToolCallProgress():
            return _tool_call_words(update)
        case AgentPlanUpdate():
            return {"plan": [entry.content for entry in update.entries]}
        case SessionInfoUpdate():
            return {"title": update.title} if update.title is not None else {}
        case UsageUpdate():
            return {"usage": _plain(update)}
        case _:
            return {}


def _tool_call_words(update: ToolCallStart | ToolCallProgress) -> dict[str, Any]:
    """A tool call's title, status, id and kind (``tool_kind``), those it says."""
    said = {
        "title": update.title,
        "status": update.status,
        "tool_call_id": update.tool_call_id,
        "tool_kind": update.kind,
    }
    words = {name: str(value) for name, value in said.items() if value is not None}
    output = _tool_output(update)
    return {**words, "output": output} if output else words


def _tool_output(update: ToolCallStart | ToolCallProgress) -> str:
    """The head of what a tool call printed: its text contents, else its raw output when it
    is text (or a mapping naming it: ``output``, ``stdout``); a diff or a terminal is not."""
    texts = [
        str(getattr(item.content, "text", ""))
        for item in update.content or ()
        if isinstance(item, ContentToolCallContent) and getattr(item.content, "text", None)
    ]
    if texts:
        return "\n".join(texts)[:OUTPUT_MAX]
    raw = update.raw_output
    if isinstance(raw, dict):
        raw = raw.get("output") or raw.get("stdout")
    return raw[:OUTPUT_MAX] if isinstance(raw, str) else ""
