"""The host process of one protocol agent: it starts the agent's CLI in its ACP mode (the ACP
Python SDK does the framing), opens or loads its session, and serves swarm on a Unix socket
(``core.hosts.wire``). It outlives ``swarm run`` and ``swarm node``: what the agent says while
swarm is away waits in the host's journal until swarm acknowledges it.

    python -m core.hosts.host --home H --agent A --cwd DIR [--mcp JSON] -- COMMAND ARGS...

One turn at a time: a prompt while a turn runs is refused as ``busy`` (swarm delivers it when
the turn ends). A prompt is accepted when the agent sent its first update of the turn, or
answered the request; a delivery id seen before is accepted again without sending it twice.
A permission request waits for swarm's ``answer`` (the option the person chose); a cancel
answers every waiting request ``cancelled``, as ACP asks of a client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from core.hosts import wire

log = logging.getLogger(__name__)
ACCEPT_S = 30.0  # a prompt with no update nor answer this long is taken as accepted (in flight)
KEEP = 5_000  # journal entries kept in memory after their acknowledgement (the transcript)
START_S = 120.0  # initialize and the session, at most


class Journal:
    """The host's entries, numbered, in memory (unacknowledged ones and the last ``KEEP``)
    and appended to the journal file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self.seq = 0
        self.acked = 0
        self.changed = asyncio.Condition()
        self._file = path.open("ab")

    def add(self, entry_type: str, /, **fields: Any) -> dict[str, Any]:
        """Append one entry and wake the streams."""
        self.seq += 1
        entry = {"seq": self.seq, "at": time.time(), "type": entry_type, **fields}
        self.entries.append(entry)
        self._file.write(wire.encode(entry))
        self._file.flush()
        self._prune()
        asyncio.get_running_loop().create_task(self._notify())
        return entry

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def after(self, seq: int) -> list[dict[str, Any]]:
        """The entries after ``seq`` still held."""
        return [e for e in self.entries if e["seq"] > seq]

    def ack(self, seq: int) -> None:
        """Swarm has the entries up to ``seq``."""
        self.acked = max(self.acked, min(seq, self.seq))
        self._prune()

    def _prune(self) -> None:
        keep_from = min(self.acked, self.seq - KEEP)
        if self.entries and self.entries[0]["seq"] <= keep_from:
            self.entries = [e for e in self.entries if e["seq"] > keep_from]

    def close(self) -> None:
        """Close the file."""
        self._file.close()


class Host:
    """One agent's ACP client, its session and its turn; the socket's requests call it."""

    def __init__(self, agent: str, cwd: str, journal: Journal, mcp: list[dict[str, Any]]) -> None:
        self.agent = agent
        self.cwd = cwd
        self.journal = journal
        self.mcp = mcp
        self.conn: Any = None  # acp.ClientSideConnection
        self.process: asyncio.subprocess.Process | None = None
        self.session: str | None = None
        self.can_load = False
        self.turn: asyncio.Task[None] | None = None
        self.delivery: int | None = None
        self.taken: set[int] = set()
        self.updates = 0  # session updates of the current turn
        self.accepted = asyncio.Event()
        self.pending: dict[int, asyncio.Future[str | None]] = {}
        self.asked = 0
        self.exit_code: int | None = None
        self.stopping = asyncio.Event()

    # the agent's side (the ACP client's callbacks)

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[Any], **_: Any
    ) -> Any:
        """A permission request: journaled, then answered with swarm's choice."""
        from acp.schema import AllowedOutcome, DeniedOutcome, RequestPermissionResponse

        self.asked += 1
        number = self.asked
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.pending[number] = future
        self.journal.add(
            wire.PERMISSION,
            request=f"{session_id}#{number}",
            delivery=self.delivery,
            title=tool_call.title or "",
            kind=tool_call.kind or "",
            tool=_plain(tool_call),
            options=[{"id": o.option_id, "name": o.name, "kind": o.kind} for o in options],
        )
        try:
            chosen = await future
        finally:
            self.pending.pop(number, None)
        self.journal.add(wire.PERMISSION_DONE, request=f"{session_id}#{number}", option=chosen)
        if chosen is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=chosen)
        )

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        """One ``session/update``: journaled in words; the first of a turn accepts its prompt."""
        kind = getattr(update, "session_update", type(update).__name__)
        self.journal.add(wire.UPDATE, session=session_id, kind=kind, **_words(update))
        if self.turn is not None and not self.turn.done():
            self.updates += 1
            self.accepted.set()

    # swarm's side (the socket's requests)

    async def prompt(self, delivery: int, text: str) -> dict[str, Any]:
        """Send a prompt; answer once the agent accepted it."""
        if delivery in self.taken:
            return {"ok": True, "again": True}
        if self.exit_code is not None:
            return {"ok": False, "reason": f"the agent exited ({self.exit_code})", "gone": True}
        if self.session is None:
            return {"ok": False, "reason": "the agent's session is not open yet", "busy": True}
        if self.turn is not None and not self.turn.done():
            why = f"a turn is running (delivery {self.delivery})"
            return {"ok": False, "reason": why, "busy": True}
        self.taken.add(delivery)
        self.delivery, self.updates = delivery, 0
        self.accepted = asyncio.Event()
        self.journal.add(wire.TURN, delivery=delivery, chars=len(text), text=text)
        self.turn = asyncio.get_running_loop().create_task(self._turn(delivery, text))
        waiting = asyncio.get_running_loop().create_task(self.accepted.wait())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait(
                {waiting, self.turn}, timeout=ACCEPT_S, return_when="FIRST_COMPLETED"
            )
        waiting.cancel()
        return {"ok": True, "updates": self.updates, "ended": self.turn.done()}

    async def _turn(self, delivery: int, text: str) -> None:
        from acp import RequestError, text_block

        try:
            answer = await self.conn.prompt(session_id=self.session, prompt=[text_block(text)])
        except RequestError as exc:
            self.journal.add(
                wire.TURN_ERROR, delivery=delivery, code=exc.code, message=str(exc),
                data=_jsonable(exc.data),
            )  # fmt: skip
            return
        except Exception as exc:  # the connection broke: the process is gone or talks nonsense
            self.journal.add(wire.TURN_ERROR, delivery=delivery, code=None, message=repr(exc))
            return
        finally:
            self.accepted.set()
        usage = answer.usage.model_dump(by_alias=True) if answer.usage is not None else None
        meta = _jsonable(answer.field_meta)
        self.journal.add(
            wire.TURN_END, delivery=delivery, stop_reason=str(answer.stop_reason), usage=usage,
            meta=meta,
        )  # fmt: skip

    def answer(self, request: str, option: str | None) -> dict[str, Any]:
        """Answer a waiting permission request with ``option`` (None: cancelled)."""
        session, _, number = request.rpartition("#")
        future = self.pending.get(int(number)) if number.isdigit() else None
        if session != self.session or future is None or future.done():
            return {"ok": False, "reason": f"no permission request {request} waits"}
        future.set_result(option)
        return {"ok": True}

    async def cancel(self) -> dict[str, Any]:
        """``session/cancel`` the running turn; every waiting request is answered cancelled."""
        for future in list(self.pending.values()):
            if not future.done():
                future.set_result(None)
        running = self.turn is not None and not self.turn.done()
        if running and self.session is not None:
            await self.conn.cancel(session_id=self.session)
        return {"ok": True, "running": running}

    async def new_session(self) -> dict[str, Any]:
        """A new session (the agent's context cleared); refused while a turn runs."""
        if self.turn is not None and not self.turn.done():
            return {"ok": False, "reason": f"a turn is running (delivery {self.delivery})",
                    "busy": True}  # fmt: skip
        await self._open(load=None)
        return {"ok": True, "session": self.session}

    def hello(self) -> dict[str, Any]:
        """Who and where the host is."""
        return {
            "ok": True, "agent": self.agent, "pid": os.getpid(),
            "agent_pid": self.process.pid if self.process else None, "session": self.session,
            "busy": self.turn is not None and not self.turn.done(), "delivery": self.delivery,
            "seq": self.journal.seq, "acked": self.journal.acked, "exit_code": self.exit_code,
        }  # fmt: skip

    # the session

    async def start(self, command: Sequence[str], env: dict[str, str]) -> None:
        """Start the agent and open (or load) its session."""
        from acp import PROTOCOL_VERSION, Client, spawn_agent_process
        from acp.schema import ClientCapabilities, Implementation

        client = cast("Client", self)  # the callbacks an ACP client needs (no files, no terminals)
        self._spawn = spawn_agent_process(
            lambda _agent: client, command[0], *command[1:], env=env, cwd=self.cwd,
            transport_kwargs={"limit": wire.LINE_LIMIT},
        )  # fmt: skip
        self.conn, self.process = await self._spawn.__aenter__()
        started = await asyncio.wait_for(
            self.conn.initialize(
                protocol_version=PROTOCOL_VERSION,
                client_capabilities=ClientCapabilities(),
                client_info=Implementation(name="swarm", version="1"),
            ),
            START_S,
        )
        caps = started.agent_capabilities
        self.can_load = bool(caps is not None and caps.load_session)
        await asyncio.wait_for(self._open(load=self._saved_session()), START_S)
        self.journal.add(wire.READY, session=self.session, pid=self.process.pid)

    async def _open(self, load: str | None) -> None:
        servers = [_mcp_server(entry) for entry in self.mcp]
        if load is not None and self.can_load:
            try:
                await self.conn.load_session(cwd=self.cwd, session_id=load, mcp_servers=servers)
            except Exception as exc:  # a session the CLI no longer has: a new one
                log.warning("host %s: session %s not loaded: %r", self.agent, load, exc)
            else:
                self.session = load
                self.journal.add(wire.SESSION, session=load, loaded=True)
                return
        made = await self.conn.new_session(cwd=self.cwd, mcp_servers=servers)
        self.session = made.session_id
        _session_file(self.journal.path).write_text(made.session_id, encoding="utf-8")
        self.journal.add(wire.SESSION, session=made.session_id, loaded=False)

    def _saved_session(self) -> str | None:
        path = _session_file(self.journal.path)
        return path.read_text(encoding="utf-8").strip() or None if path.is_file() else None

    async def watch_exit(self) -> None:
        """Journal the agent's exit (the host stays, so swarm reads why, until stopped)."""
        assert self.process is not None
        self.exit_code = await self.process.wait()
        for future in list(self.pending.values()):
            if not future.done():
                future.set_result(None)
        self.journal.add(wire.EXITED, code=self.exit_code)

    async def stop(self) -> None:
        """End the agent (its process group) and this host."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.process.wait(), 5)
            if self.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
        self.stopping.set()


def _session_file(journal: Path) -> Path:
    return journal.with_suffix(".session")


def _mcp_server(entry: dict[str, Any]) -> Any:
    from acp.schema import EnvVariable, McpServerStdio

    env = [EnvVariable(name=k, value=v) for k, v in dict(entry.get("env") or {}).items()]
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


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


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


class Server:
    """The Unix socket: one task per connection, one request a line."""

    def __init__(self, host: Host) -> None:
        self.host = host

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer this connection's requests until it closes."""
        try:
            while line := await reader.readline():
                try:
                    request = wire.decode(line)
                except ValueError as exc:
                    writer.write(wire.encode({"ok": False, "reason": f"bad request: {exc}"}))
                    continue
                if request.get("op") == wire.EVENTS:
                    await self._stream(writer, int(request.get("after") or 0))
                    return
                writer.write(wire.encode(await self._answer(request)))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        host, op = self.host, request.get("op")
        try:
            if op == wire.HELLO:
                return host.hello()
            if op == wire.PROMPT:
                return await host.prompt(int(request["delivery"]), str(request["text"]))
            if op == wire.ANSWER:
                option = request.get("option")
                return host.answer(str(request["request"]), None if option is None else str(option))
            if op == wire.CANCEL:
                return await host.cancel()
            if op == wire.NEW_SESSION:
                return await host.new_session()
            if op == wire.ACK:
                host.journal.ack(int(request["seq"]))
                return {"ok": True}
            if op == wire.STOP:
                await host.stop()
                return {"ok": True}
        except (KeyError, TypeError, ValueError) as exc:
            return {"ok": False, "reason": f"bad {op} request: {exc!r}"}
        except Exception as exc:  # the agent's connection failed: said, the host goes on
            log.exception("host %s: %s failed", host.agent, op)
            return {"ok": False, "reason": f"{op} failed: {exc!r}"}
        return {"ok": False, "reason": f"unknown op {op!r}"}

    async def _stream(self, writer: asyncio.StreamWriter, after: int) -> None:
        journal = self.host.journal
        sent = after
        while True:
            for entry in journal.after(sent):
                writer.write(wire.encode(entry))
                sent = entry["seq"]
            await writer.drain()
            async with journal.changed:
                await journal.changed.wait_for(_newer_than(journal, sent))


def _newer_than(journal: Journal, seq: int) -> Callable[[], bool]:
    return lambda: journal.seq > seq


async def run(args: argparse.Namespace) -> int:
    """Start the agent, serve the socket until ``stop`` or a signal; the exit code."""
    home = Path(args.home)
    wire.folder(home).mkdir(parents=True, exist_ok=True)
    sock = wire.socket_path(home, args.agent)
    journal = Journal(wire.journal_path(home, args.agent))
    host = Host(args.agent, args.cwd, journal, json.loads(args.mcp) if args.mcp else [])
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: loop.create_task(host.stop()))
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    server = await asyncio.start_unix_server(
        Server(host).serve, path=str(sock), limit=wire.LINE_LIMIT
    )
    os.chmod(sock, 0o600)
    try:
        await host.start(args.command, dict(os.environ))
    except Exception as exc:
        journal.add(wire.HOST_ERROR, message=f"the agent did not start: {exc!r}")
        log.exception("host %s: the agent did not start", args.agent)
        await host.stop()
        server.close()
        return 1
    exit_watch = loop.create_task(host.watch_exit())
    await host.stopping.wait()
    exit_watch.cancel()
    server.close()
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    journal.close()
    return 0


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The host's arguments."""
    parser = argparse.ArgumentParser(prog="python -m core.hosts.host", description=__doc__)
    parser.add_argument("--home", required=True, help="SWARM_HOME (its hosts/ folder)")
    parser.add_argument("--agent", required=True, help="the agent's id")
    parser.add_argument("--cwd", required=True, help="the agent's workspace")
    parser.add_argument("--mcp", default="", help="MCP servers for session/new, as JSON")
    parser.add_argument("command", nargs="+", help="the agent CLI in its ACP mode")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
