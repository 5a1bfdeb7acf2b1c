"""A sandboxed agent's door to swarm: a Unix socket that speaks for that agent alone.

An agent under bubblewrap (``sandbox = true``) sees neither swarm's home nor its database.
``swarm desktop up`` starts one door per such agent (``python -I -m
automation.launch.sandbox._door --home H --agent A --workspace W``, in swarm's home, in its
own session, its pid in ``$SWARM_HOME/doors/A.pid``); its folder ``$SWARM_HOME/doors/A/``
holds the socket
``door.sock`` and a ``swarm`` command (:mod:`.door_client`) and is bound read-only into
A's sandbox alone. A connection is taken only from a process of this OS user that swarm
places in A's terminal (its pane or its protocol host, by the socket's peer credentials:
``core.agents._identity``); it names one of the agent's own commands (:data:`ALLOWED`), which
runs as A (``SWARM_AGENT``, in the top of A's workspace, swarm's Python isolated: ``-I``) as
``swarm`` would outside, and its output goes back. ``swarm hook`` (its CLI's hooks: the
event's JSON comes as the request's ``stdin``) runs as outside (``python -m bot.cli.hook``);
what the door runs is placed in A's terminal (``core.agents._identity.door_roots``), so a
hook naming another agent is refused and a ``PermissionRequest`` waits for a person's
decision, printed back. A caller that hangs up ends its command (SIGTERM: a waiting hook
closes its prompt). ``swarm mcp`` (swarm's MCP server, as A: its CLI launches it) is a
stream: the door answers ``{"stream": true}`` and then carries the bytes both ways between
the caller and ``python -m bot.cli mcp`` until either ends.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.agents import Resolver
from core.agents_file import load_agents
from core.errors import ConfigError
from core.hosts import running
from core.privacy import files
from core.processes import ancestry, peer_of
from core.sandbox import DOOR_SOCKET as SOCKET
from core.sandbox import door_folder as folder
from core.settings import GLOBAL_VALUED, Settings
from core.waits import Background, within

log = logging.getLogger(__name__)
LINE_MAX = 1 << 20
READ_S = 5.0
RUN_S = 590.0  # a command's longest run (the client waits 600 s)
OUTPUT_MAX = 1 << 20
# the agent's own commands (group -> its subcommands; None: the command has none)
ALLOWED: dict[str, frozenset[str] | None] = {
    "task": frozenset({"start", "done", "note", "fail", "show", "list"}),
    "ask": None,
    "send": None,
    "inbox": None,
    "status": None,
    "reserve": None,
    "release": None,
    "conflicts": None,
    "reservations": None,
    "hook": None,
    "mcp": None,
}
PERSONS = {"reservations": ("install-hook",)}  # of an allowed command: a person's actions
STREAMED = ["mcp"]  # a command whose stdin and stdout are the connection's (an MCP server)
CHUNK = 1 << 16
RUNNING_MAX = 16  # commands, hooks and MCP servers running at once, at most
HOOK_MODULE = "bot.cli.hook"  # ``swarm hook`` without the command tree (a faster start)
STOP_S = 5.0  # a command whose caller hung up gets this long after SIGTERM
SEND_MAX = 30  # messages and questions an agent sends through its door in SEND_WINDOW_S
SEND_WINDOW_S = 60.0
DROPPED_ENV = ("TMUX", "TMUX_PANE", "SWARM_MCP_TOKEN")


def own_argv(argv: Sequence[str], agent: str) -> list[str] | str:
    """``argv`` as the door runs it for ``agent``, or why it is refused: an ``--agent`` naming
    another agent (a hook's is the hook's to judge, and to record). What the command then
    shows is scoped by the command itself, to ``SWARM_DOOR_AGENT`` (``task list``, ``task
    show``, ``inbox``: ``bot.cli.args.door_agent``), never by rewriting its words."""
    if argv[:1] == ["hook"]:
        return list(argv)
    named = [v for i, w in enumerate(argv) for v in _agent_values(argv, i, w)]
    if any(v.lower() != agent.lower() for v in named):
        return f"--agent names another agent: the door speaks for {agent} only"
    return list(argv)


def _agent_values(argv: Sequence[str], i: int, word: str) -> list[str]:
    """The agent ``--agent`` names at ``argv[i]`` (``--agent X`` or ``--agent=X``)."""
    if word.startswith("--agent="):
        return [word.split("=", 1)[1]]
    if word == "--agent":
        return [argv[i + 1] if i + 1 < len(argv) else ""]
    return []


class SendRate:
    """At most ``SEND_MAX`` messages and questions (``send``, ``ask``) of one agent in any
    ``SEND_WINDOW_S``: an agent in a loop reaches nobody's chat faster."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock, self.sent = clock, collections.deque[float]()

    def refused(self, argv: Sequence[str]) -> str | None:
        """Why this command is over the rate (None: it is not, and is counted)."""
        if argv[:1] not in (["send"], ["ask"]):
            return None
        now = self.clock()
        while self.sent and self.sent[0] <= now - SEND_WINDOW_S:
            self.sent.popleft()
        if len(self.sent) >= SEND_MAX:
            wait = self.sent[0] + SEND_WINDOW_S - now
            return (f"{SEND_MAX} messages and questions in {SEND_WINDOW_S:g} s, the door's most: "
                    f"this one was not sent; try again in {wait:.0f} s")  # fmt: skip
        self.sent.append(now)
        return None


def refusal(argv: Sequence[str]) -> str | None:
    """Why ``argv`` is no command of an agent's own (None: it is): its command word first
    (no option before it), never an option that says who acts or which agents file counts
    (``--as``, ``--config``, in any spelling argparse would take: the CLI's parsers take no
    abbreviation either)."""
    words = [w for w in argv if not w.startswith("-")]
    if argv[:1] and argv[0].startswith("-"):
        return "the door takes the command first, no option before it"
    named = [w.split("=", 1)[0] for w in argv if w.startswith("--")]
    if any(w == "--" or _names_global(w) for w in named):
        return "--config and --as are not taken through the door: it speaks for its agent"
    if "--force" in named:  # another agent's task reported on, recorded as forced
        return "--force is not taken through the door: an agent reports on its own tasks only"
    if not words or words[0] not in ALLOWED:
        shown = ", ".join(sorted(ALLOWED))
        return f"only an agent's own commands pass the door ({shown})"
    if words[0] == "mcp" and list(argv) != STREAMED:
        return "swarm mcp passes the door without arguments"
    subs = ALLOWED[words[0]]
    if subs is not None and (len(words) < 2 or words[1] not in subs):
        return f"swarm {words[0]} passes the door only as {', '.join(sorted(subs))}"
    if any(w in PERSONS.get(words[0], ()) for w in words[1:]):
        return f"swarm {words[0]} {' '.join(PERSONS[words[0]])} is a person's command"
    return None


def _names_global(option: str) -> bool:
    """Whether ``option`` is, or abbreviates, one of the CLI's global options."""
    return any(g.startswith(option) and len(option) > 2 for g in GLOBAL_VALUED)


def write_client(home: Path, agent: str, python: str = sys.executable) -> Path:
    """The door's folder with its ``swarm`` (this Python, isolated, standard library only)."""
    where = folder(home, agent)
    files.make_dirs(where)
    source = Path(__file__).with_name("_door_client.py").read_text(encoding="utf-8")
    script = where / "swarm"
    script.write_text(f"#!{os.path.realpath(python)} -IS\n{source}", encoding="utf-8")
    script.chmod(0o700)
    return where


class Door:
    """Serves one agent's socket."""

    def __init__(self, home: Path, agent: str, workspace: Path, env: Mapping[str, str]) -> None:
        self.home, self.agent, self.workspace = home, agent, workspace.resolve()
        self.env = {k: v for k, v in env.items() if k not in DROPPED_ENV}
        self.env.update(SWARM_AGENT=agent, SWARM_HOME=str(home), SWARM_DOOR_AGENT=agent)
        self.rate = SendRate()
        self.resolver = Resolver(self.env, home)
        self.config = Settings.from_env(self.env).config_path
        self.running = 0  # commands started and not ended (at most RUNNING_MAX)
        self.handlers: set[asyncio.Task[Any]] = set()  # one per connection being served
        self.streams: set[asyncio.Task[Any]] = set()  # those carrying a stream (no reply)

    async def serve(self) -> None:
        """Listen until SIGTERM."""
        path = write_client(self.home, self.agent) / SOCKET
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        server = await asyncio.start_unix_server(self._one, path=str(path), limit=LINE_MAX)
        path.chmod(0o600)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        log.info("door of %s open at %s", self.agent, path)
        async with server:
            await stop.wait()
            server.close()
            await self._end_handlers()
        log.info("door of %s closed", self.agent)

    async def _end_handlers(self) -> None:
        """What runs when the door closes (an MCP stream its CLI keeps open, a hook waiting
        for a person) is stopped and its end said, not cut off by the loop's end."""
        for task in self.handlers:
            task.cancel()
        if self.handlers:
            await asyncio.wait(self.handlers, timeout=3 * STOP_S)

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            reply = await self._answer(reader, writer)
        except asyncio.CancelledError:  # the door closes: what ran for it was stopped
            closed = _said("swarm's door closed (swarm desktop down)")
            reply = None if task in self.streams else closed
        except Exception as exc:
            log.exception("door of %s: a request failed", self.agent)
            reply = _said(f"swarm's door failed: {exc}")
        finally:
            self.handlers.discard(task)
            self.streams.discard(task)
        with contextlib.suppress(OSError):
            if reply is not None:
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
            writer.close()

    async def _answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> dict[str, Any] | None:
        """The reply to one request (None: it was a stream, carried to its end)."""
        try:  # read first: a refusal sent before the request would break the sender's pipe
            raw = await within(reader.readline(), READ_S)
            asked = json.loads(raw)
            argv = [str(w) for w in asked["argv"]]
            stdin = str(asked.get("stdin") or "").encode() if argv[:1] == ["hook"] else b""
        except (TimeoutError, ValueError, KeyError, TypeError, asyncio.LimitOverrunError):
            return _said("swarm's door takes one JSON line with argv")
        refused = await asyncio.to_thread(self._peer_refused, writer)
        if refused is not None:
            log.warning("door of %s: refused %s", self.agent, refused)
            return _said(refused)
        why = refusal(argv)
        if why is not None:
            return _said(why)
        own = own_argv(argv, self.agent)
        if isinstance(own, str):
            return _said(own)
        argv = own
        over = self.rate.refused(argv)
        if over is not None:
            log.warning("door of %s: %s", self.agent, over)
            return _said(over)
        if self.running >= RUNNING_MAX:
            return _said(f"{self.running} of {self.agent}'s commands run: try again shortly")
        self.running += 1
        try:
            if argv == STREAMED:
                self.streams.update(filter(None, [asyncio.current_task()]))
                await self._stream(reader, writer)
                return None
            return await self._run(argv, stdin, reader)
        finally:
            self.running -= 1

    def _peer_refused(self, writer: asyncio.StreamWriter) -> str | None:
        """Why the connected process may not speak for the agent (None: it may)."""
        found = peer_of(writer.get_extra_info("socket"))
        if found is None:
            return "the caller cannot be told (no peer credentials)"
        pid, uid = found
        if uid != os.getuid():
            return f"uid {uid} is not swarm's"
        try:
            agents = {a.id: a for a in load_agents(self.config)}
        except ConfigError as exc:
            return f"the agents file cannot be read: {exc}"
        placed = self.resolver.place(pid, agents, claimed=self.agent)
        if placed.agent is None and self._under_own_host(pid):
            return None
        if placed.agent != self.agent:
            return f"{placed.how}: not {self.agent}'s terminal"
        return None

    def _under_own_host(self, pid: int) -> bool:
        """Whether ``pid`` runs under this agent's protocol host. Its CLI starts its MCP
        servers (this door's ``swarm mcp``) while ``desktop up`` opens its session, before
        the agents file says ``delivery = "protocol"``, which the resolver's host roots
        need; the host's pid file in swarm's home says whose it is all the same."""
        host = running.host_pid(self.home, self.agent)
        return host is not None and host in ancestry(pid)

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """``swarm mcp`` as the agent, its stdin and stdout the connection's, until the
        server ends or the caller hangs up (then its stdin closes: it ends; SIGTERM after
        ``STOP_S``)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-m", "bot.cli", *STREAMED, cwd=self.workspace, env=self.env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        writer.write(json.dumps({"stream": True}).encode() + b"\n")
        log.info("door of %s: swarm mcp started (pid %s)", self.agent, process.pid)
        tasks = Background(f"door of {self.agent}: swarm mcp")  # each awaited below
        up = tasks.start(_carry(reader, process.stdin), name="door-up", awaited=True)
        down = tasks.start(_carry(process.stdout, writer), name="door-down", awaited=True)
        ended = tasks.start(process.wait(), name="door-mcp-exit", awaited=True)
        try:
            await asyncio.wait({up, down}, return_when="FIRST_COMPLETED")
            try:  # its stdin closed, or its stdout: it ends by itself
                await within(asyncio.shield(ended), STOP_S)
            except TimeoutError:
                await _stop(process, ended)
            await asyncio.wait({down}, timeout=STOP_S)  # the last of its output to the caller
        finally:  # cancelled too (the door closes): the server is stopped, not left behind
            if not ended.done():
                await _stop(process, ended)
            for carrier in (up, down):
                carrier.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            log.info("door of %s: swarm mcp ended (%s)", self.agent, process.returncode)

    async def _run(
        self, argv: list[str], stdin: bytes, caller: asyncio.StreamReader
    ) -> dict[str, Any]:
        """``argv`` as the agent, by swarm's Python isolated (``-I``: nothing of the agent's
        folder is imported) in the workspace's top (never a folder the agent made inside,
        whose ``.git`` would be its own)."""
        program = [HOOK_MODULE, *argv[1:]] if argv[0] == "hook" else ["bot.cli", *argv]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-m", *program, cwd=self.workspace, env=self.env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        tasks = Background(f"door of {self.agent}: a command")  # each awaited or read below
        running = tasks.start(process.communicate(stdin), name="door-command", awaited=True)
        gone = tasks.start(caller.read(1), name="door-caller", awaited=True)  # EOF: gone
        try:
            await asyncio.wait({running, gone}, timeout=RUN_S, return_when="FIRST_COMPLETED")
        except asyncio.CancelledError:  # the door closes: the command is stopped, not left
            await _stop(process, running)
            raise
        finally:
            gone.cancel()
            if gone.done() and not gone.cancelled():
                gone.exception()  # a reset connection: the caller is gone all the same
        if not running.done():
            why = "its caller hung up" if gone.done() else f"it took more than {RUN_S:g} s"
            await _stop(process, running)
            return _said(f"swarm {' '.join(argv[:2])} ended: {why}")
        out, err = running.result()
        return {
            "rc": process.returncode,
            "stdout": out[:OUTPUT_MAX].decode(errors="replace"),
            "stderr": err[:OUTPUT_MAX].decode(errors="replace"),
        }


async def _stop(process: asyncio.subprocess.Process, running: asyncio.Future[Any]) -> None:
    """SIGTERM (a waiting hook closes its prompt), SIGKILL after ``STOP_S``."""
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await within(asyncio.shield(running), STOP_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await running


async def _carry(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Bytes from ``source`` to ``sink`` until ``source`` ends; then ``sink``'s write side
    is closed (its reader sees the end)."""
    try:
        while chunk := await source.read(CHUNK):
            sink.write(chunk)
            await sink.drain()
    except (OSError, RuntimeError):
        pass  # the other end went away: the stream ends
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            if sink.can_write_eof():
                sink.write_eof()
            else:
                sink.close()


def _said(message: str) -> dict[str, Any]:
    return {"rc": 2, "stdout": "", "stderr": f"swarm: error: {message}\n"}


def main(argv: Sequence[str] | None = None) -> int:
    """Serve one agent's door until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m automation.launch.sandbox._door")
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--agent", required=True)
    parser.add_argument("--workspace", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(Door(args.home, args.agent, args.workspace, dict(os.environ)).serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
