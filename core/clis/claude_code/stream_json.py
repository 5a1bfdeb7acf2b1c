"""Claude Code's own protocol: ``claude -p --input-format stream-json --output-format
stream-json --verbose --include-partial-messages --permission-prompt-tool stdio``, JSON lines
both ways (the protocol its Agent SDKs speak). A prompt is a ``user`` message; the model's
answer streams as ``stream_event`` pieces (its start, its text: the turn's progress, so a
frozen stream shows as silence), then comes whole as an ``assistant`` message (its tool
calls); the turn ends with a ``result`` (its ``stop_reason``, ``usage`` and
``total_cost_usd``). A tool that needs permission is a ``control_request`` ``can_use_tool``,
answered by a ``control_response``: allow with the input unchanged, allow and keep one of the
rules or modes Claude Code suggested (each its own option, in words), or deny. A cancel is
the ``interrupt`` control request. An API error Claude Code retries is a ``system``
``api_retry`` message (its status, the attempt and the wait), journaled as an ``api_retry``
update. A new session is named by swarm (``--session-id``) and resumed with ``--resume
<id>``. Claude Code's ``total_cost_usd`` is its session's running total (kept over a
``--resume``): a turn's cost is what it adds to the total the last turn said.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from core.clis.claude_code import ask_user, plan_mode
from core.clis.claude_code.permissions import suggestion_label, suggestions_of
from core.clis.claude_code.tools import tool_title
from core.hosts import lines, wire
from core.hosts.bodies import OUTPUT_MAX
from core.hosts.turns import (
    API_RETRY,
    STREAM_START,
    TOTAL_COST,
    Ended,
    Launched,
    TurnFailed,
    lower_priority,
)
from core.waits import Background, within

log = logging.getLogger(__name__)
ARGS = ("-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose",
        "--include-partial-messages", "--permission-prompt-tool", "stdio")  # fmt: skip
ALLOW, DENY = "allow", "deny"
SUGGESTED = "keep-"  # an option's id: allow and keep the request's suggestion of this number
CONTROL_S = 60.0  # a control request's answer (initialize: MCP servers start)


class StreamJsonDriver:
    """Claude Code over stream-json."""

    def __init__(self, launched: Launched) -> None:
        self.host, self.env, self.cwd, self.mcp = (
            launched.host, launched.env, launched.cwd, launched.mcp,
        )  # fmt: skip
        self.nice = launched.nice
        self.command = [*launched.command, *(a for a in ARGS if a not in launched.command)]
        self.process: asyncio.subprocess.Process | None = None
        self.session: str | None = None
        self._reader: asyncio.Task[None] | None = None
        self._controls: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._result: asyncio.Future[dict[str, Any]] | None = None
        self._tasks = Background("claude code's stream-json")  # the reader, each request
        self._interrupted = False  # the running turn was asked to stop
        self.spent = 0.0  # the session's total_cost_usd at its last turn's end
        self._streamed: set[str] = set()  # the turn's messages whose text came in pieces
        self._plan = plan_mode.PlanSeen()  # what the model planned (plan mode's request)
        self._denied: set[str] = set()  # tool calls a person denied (their results say so)

    async def start(self) -> None:
        """Spawn Claude Code and initialize, resuming the session the host had; one it cannot
        resume (it ends at once: "No conversation found with session ID", a session it never
        saved because no prompt came before its host ended, or its files gone) gives way to
        a new session, said in the host's log, as an ACP agent's ``session/load`` does."""
        saved = self.host.saved_session()
        if saved is None:
            await self._spawn(None)
            return
        try:
            await self._spawn(saved)
        except ConnectionError as exc:
            log.warning("host %s: session %s not resumed (%s): a new session",
                        self.host.agent, saved, exc)  # fmt: skip
            await self._spawn(None, lost=saved)

    async def _spawn(self, resume: str | None, lost: str | None = None) -> None:
        argv = list(self.command)
        if self.mcp:
            servers = {e["name"]: {k: e[k] for k in ("command", "args", "env") if k in e}
                       for e in self.mcp}  # fmt: skip
            argv += ["--mcp-config", json.dumps({"mcpServers": servers})]
        session = resume or str(uuid.uuid4())
        self.spent = self.host.session_spent(resume) if resume else 0.0
        argv += ["--resume", resume] if resume else ["--session-id", session]
        self.process = await asyncio.create_subprocess_exec(
            *argv, cwd=self.cwd, env=self.env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=lines.AGENT_LINE_LIMIT,
        )  # fmt: skip
        lower_priority(self.process.pid, self.nice)
        reading = self._read(self.process)
        self._reader = self._tasks.start(reading, name="stream-json-reader", awaited=True)
        await self._control({"subtype": "initialize", "hooks": None})
        self.session = session
        self.host.on_session(session, loaded=resume is not None, lost=lost)

    async def prompt(self, text: str) -> Ended:
        """A ``user`` message; the turn until its ``result``."""
        self._result = asyncio.get_running_loop().create_future()
        self._interrupted = False
        self._streamed.clear()
        self._plan.turn_started()
        message = {"role": "user", "content": [{"type": "text", "text": text}]}
        await self._send({"type": "user", "message": message, "parent_tool_use_id": None,
                          "session_id": self.session or ""})  # fmt: skip
        result = await self._result
        if self._interrupted and result.get("subtype") == "error_during_execution":
            return Ended("cancelled", result.get("usage"), *self._cost(result))
        if result.get("is_error") or result.get("subtype") not in (None, "success"):
            words = result.get("result") or result.get("subtype") or "error"
            raise TurnFailed(str(words), None, {"subtype": result.get("subtype")})
        cost, meta = self._cost(result)
        return Ended(
            str(result.get("stop_reason") or "end_turn"), result.get("usage"), cost,
            {**meta, "duration_ms": result.get("duration_ms"), "model": _model(result)},
        )  # fmt: skip

    def _cost(self, result: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        """The turn's cost (its session's total less the total at the last turn's end) and
        the total, for the turn's ``meta`` (None and {} when Claude Code gave none)."""
        total = result.get("total_cost_usd")
        if not isinstance(total, int | float) or isinstance(total, bool):
            return None, {}
        cost, self.spent = max(0.0, total - self.spent), float(total)
        return round(cost, 9), {TOTAL_COST: self.spent}

    async def cancel(self) -> None:
        """The ``interrupt`` control request (the turn then ends as an error during execution:
        taken as cancelled)."""
        self._interrupted = True
        with contextlib.suppress(TimeoutError, ConnectionError):
            await self._control({"subtype": "interrupt"})

    async def new_session(self) -> None:
        """Claude Code started again without ``--resume``: a new session."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        await self._spawn(None)

    async def close(self) -> None:
        """Stop reading (the process has ended)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(wire.encode(message))
        await self.process.stdin.drain()

    async def _control(self, request: dict[str, Any]) -> dict[str, Any]:
        ident = uuid.uuid4().hex
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._controls[ident] = answer
        try:
            await self._send({"type": "control_request", "request_id": ident, "request": request})
            return await within(answer, CONTROL_S)
        finally:
            self._controls.pop(ident, None)

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        """Route each line Claude Code writes (read bounded: one that is too long, no JSON
        object, or that cannot be routed is said to the host and skipped); at its end, a
        running turn fails."""
        assert process.stdout is not None
        try:
            while line := await lines.read_line(process.stdout):
                self._take(line)
            self.host.on_output_end(process)
        finally:
            gone = ConnectionError(f"Claude Code ended ({process.returncode})")
            for future in [*self._controls.values(), self._result]:
                if future is not None and not future.done():
                    future.set_exception(gone)

    def _take(self, line: bytes | lines.Overlong) -> None:
        if isinstance(line, lines.Overlong):
            self.host.on_bad_line(f"a line of {line.size:,} bytes, over the limit: dropped")
            return
        if not line.strip():
            return
        message = lines.parse(line)
        if isinstance(message, str):
            self.host.on_bad_line(f"a line that is {message}: {lines.shown(line)!r}")
            return
        try:
            self._route(message)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:  # a field's odd shape
            self.host.on_bad_line(f"a message swarm cannot read ({exc!r}): {lines.shown(line)!r}")

    def _route(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "control_response":
            response = message.get("response") or {}
            future = self._controls.get(str(response.get("request_id")))
            if future is not None and not future.done():
                future.set_result(response)
        elif kind == "control_request":
            self._tasks.start(self._permission(message), name="stream-json-permission")
        elif kind == "stream_event":
            self._partial(message.get("event") or {})
        elif kind == "assistant":
            self._assistant(message)
        elif kind == "user":
            for call, failed, output in _tool_results(message):
                status = "denied" if call in self._denied else "failed" if failed else "completed"
                said = {"output": output} if output else {}
                self.host.on_update("tool_call_update", status=status, tool_call_id=call, **said)
        elif kind == "system" and message.get("subtype") == "api_retry":
            self.host.on_update(API_RETRY, **_retry(message))
        elif kind == "result" and self._result is not None and not self._result.done():
            self._result.set_result(message)

    def _partial(self, event: dict[str, Any]) -> None:
        """A piece of the model's streamed answer (``--include-partial-messages``): its start
        and its text and thinking as they come (a ``ping``, sent while the stream is silent,
        is no progress and not journaled)."""
        kind = event.get("type")
        if kind == "message_start":
            self._streamed.add(str((event.get("message") or {}).get("id") or ""))
            self.host.on_update(STREAM_START)
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                self._plan.said(str(delta["text"]))
                self.host.on_update("agent_message_chunk", text=str(delta["text"]))
            elif delta.get("type") == "thinking_delta":
                self.host.on_update("agent_thought_chunk")

    def _assistant(self, message: dict[str, Any]) -> None:
        """A whole message of the model's: its tool calls; its text and thinking too when
        they were not streamed (Claude Code's fallback to a request without streaming)."""
        body = message.get("message") or {}
        streamed = str(body.get("id") or "") in self._streamed
        for block in body.get("content") or ():
            if not isinstance(block, dict):
                continue
            if streamed and block.get("type") in ("text", "thinking"):
                continue
            if block.get("type") == "text":
                self._plan.said(str(block.get("text") or ""))
                self.host.on_update("agent_message_chunk", text=str(block.get("text") or ""))
            elif block.get("type") == "thinking":
                self.host.on_update("agent_thought_chunk")
            elif block.get("type") == "tool_use":
                given = block.get("input")
                self._plan.tool(str(block.get("name")), given if isinstance(given, dict) else {})
                self.host.on_update(
                    "tool_call", title=tool_title(str(block.get("name")), given),
                    status="pending", tool_call_id=str(block.get("id") or ""),
                )  # fmt: skip

    async def _permission(self, message: dict[str, Any]) -> None:
        """``can_use_tool``: the host asks swarm; the choice goes back (anything else asked
        is refused, so Claude Code never waits for an answer that will not come)."""
        ident, request = message.get("request_id"), message.get("request") or {}
        if request.get("subtype") != "can_use_tool":
            error = f"swarm does not answer {request.get('subtype')!r}"
            reply = {"subtype": "error", "request_id": ident, "error": error}
            await self._send({"type": "control_response", "response": reply})
            return
        given = request.get("input") or {}
        if request.get("tool_name") == plan_mode.EXIT_PLAN:
            await self._plan_request(ident, given)
            return
        if request.get("tool_name") == ask_user.ASK_USER:
            await self._questions(ident, given, request.get("tool_use_id"))
            return
        title = str(request.get("description") or request.get("tool_name") or "a tool")
        tool = {"toolName": request.get("tool_name"), "rawInput": given}
        call = request.get("tool_use_id")
        if isinstance(call, str) and call:  # the call it gates, as ACP's request names it
            tool["toolCallId"] = call
        suggestions = suggestions_of(request)
        chosen = await self.host.ask(
            title, str(request.get("tool_name") or ""), tool, _options(suggestions)
        )
        answer: dict[str, Any]
        if chosen == ALLOW or (chosen or "").startswith(SUGGESTED):
            answer = {"behavior": "allow", "updatedInput": given}
            kept = _suggestion(suggestions, chosen or "")
            if kept is not None:
                answer["updatedPermissions"] = [kept]
        else:
            words = "Denied by a person through swarm." if chosen else "Cancelled through swarm."
            answer = {"behavior": "deny", "message": words}
            self._denied.add(str(request.get("tool_use_id") or ""))
        reply = {"subtype": "success", "request_id": ident, "response": answer}
        await self._send({"type": "control_response", "response": reply})

    async def _plan_request(self, ident: Any, given: dict[str, Any]) -> None:
        """Plan mode's "Ready to code?": the plan as the host saw it, the dialog's choices."""
        tool = {"toolName": plan_mode.EXIT_PLAN, "rawInput": {"plan": self._plan.plan()}}
        chosen = await self.host.ask(
            plan_mode.TITLE, plan_mode.EXIT_PLAN, tool, plan_mode.options()
        )
        reply = {"subtype": "success", "request_id": ident,
                 "response": plan_mode.answer(chosen, given)}  # fmt: skip
        await self._send({"type": "control_response", "response": reply})

    async def _questions(self, ident: Any, given: dict[str, Any], call: Any) -> None:
        """``AskUserQuestion``: the model's own questions, asked of the person (swarm opens a
        question item); their answers go back in the call's input, as Claude Code takes them."""
        tool: dict[str, Any] = {"toolName": ask_user.ASK_USER, "rawInput": given}
        if isinstance(call, str) and call:
            tool["toolCallId"] = call
        chosen = await self.host.ask(ask_user.TITLE, ask_user.KIND, tool, ask_user.options())
        answer = ask_user.answer(chosen, given)
        if answer["behavior"] == DENY:
            self._denied.add(str(call or ""))
        reply = {"subtype": "success", "request_id": ident, "response": answer}
        await self._send({"type": "control_response", "response": reply})


def _options(suggestions: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    """A permission request's choices, as Claude Code's dialog orders them: Yes, one per
    suggestion it carries (in words: what choosing it keeps), No."""
    kept = [
        {"id": f"{SUGGESTED}{n}", "name": suggestion_label(s), "kind": "allow_always"}
        for n, s in enumerate(suggestions)
    ]
    return [{"id": ALLOW, "name": "Yes", "kind": "allow_once"}, *kept,
            {"id": DENY, "name": "No", "kind": "reject_once"}]  # fmt: skip


def _suggestion(suggestions: list[Mapping[str, Any]], chosen: str) -> Mapping[str, Any] | None:
    """The suggestion a ``keep-N`` option keeps (None: another option, or no such one)."""
    number = chosen.removeprefix(SUGGESTED)
    if not chosen.startswith(SUGGESTED) or not number.isdigit():
        return None
    return suggestions[int(number)] if int(number) < len(suggestions) else None


def _retry(message: dict[str, Any]) -> dict[str, Any]:
    """An ``api_retry`` message's figures: the attempt, of how many, the wait before it (ms),
    the API's status and error kind (a number that is none is left out)."""
    found: dict[str, Any] = {}
    for key in ("attempt", "max_retries", "retry_delay_ms", "error_status"):
        value = message.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[key] = value
    if message.get("error") is not None:
        found["error"] = str(message["error"])[:200]
    return found


def _tool_results(message: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """The tool calls (their ids, whether each failed: ``is_error``, and the head of what it
    printed) whose results a ``user`` message carries (none in Claude Code's own notes)."""
    content = (message.get("message") or {}).get("content")
    if not isinstance(content, list):
        return []
    return [
        (str(b.get("tool_use_id") or ""), b.get("is_error") is True, _result_text(b))
        for b in content
        if isinstance(b, dict) and b.get("type") == "tool_result"
    ]


def _result_text(block: dict[str, Any]) -> str:
    """A tool result's text (a string, or its text blocks joined), its head only."""
    said = block.get("content")
    if isinstance(said, str):
        return said[:OUTPUT_MAX]
    if not isinstance(said, list):
        return ""
    parts = [str(b.get("text")) for b in said if isinstance(b, dict) and b.get("type") == "text"]
    return "\n".join(parts)[:OUTPUT_MAX]


def _model(result: dict[str, Any]) -> str | None:
    """The model that answered most of a turn (its ``modelUsage``' entry with the most output
    tokens: Claude Code asks a small model for side work too), None when it names none."""
    used = result.get("modelUsage")
    if not isinstance(used, dict) or not used:
        return None

    def output(name: str) -> int:
        entry = used.get(name)
        value = entry.get("outputTokens") if isinstance(entry, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return str(max(used, key=output))
