"""The protocol host's program (``bot.protocol_host``): its arguments, and its run: start the
agent through its driver, serve the socket until ``stop`` or a signal.

    python -m bot.protocol_host --home H --agent A --cwd DIR [--mcp JSON] [--protocol P] \
        [--nice N] [--cumulative-usage] -- COMMAND ARGS...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import stat
from collections.abc import Sequence
from pathlib import Path

from automation.protocol.host import Host
from automation.protocol.journal import Journal
from automation.protocol.server import Server
from core import clis
from core.formats.text import flat, shorten
from core.hosts import journal_file, wire
from core.hosts.entries import HostError, Ready
from core.hosts.turns import Driver, Launched
from core.privacy import files
from core.waits import Background, within

log = logging.getLogger(__name__)
ACP = "acp"
START_S = 120.0  # initialize and the session, at most
HOST_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")  # the host's own
SAID_LINES = 3  # of the CLI's last words, shown in the host's error
SAID_MAX = 400
LOG_READ_MAX = 1 << 16


async def run(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Start the agent, serve the socket until ``stop`` or a signal; the exit code."""
    home = Path(args.home)
    files.make_dirs(wire.folder(home))
    sock = wire.socket_path(home, args.agent)
    journal_file.rotate(wire.journal_path(home, args.agent))
    journal = Journal(wire.journal_path(home, args.agent))
    host = Host(args.agent, journal, cumulative_usage=args.cumulative_usage)
    mcp = json.loads(args.mcp) if args.mcp else []
    launched = Launched(host, args.command, args.cwd, mcp, env, nice=args.nice)
    host.driver = _driver(args.protocol, launched)
    host.ends_unanswered = clis.own_driver(args.protocol) is None  # ACP's: a cancel unanswered
    loop = asyncio.get_running_loop()
    tasks = Background(f"host program of {args.agent}")  # a stop asked by signal, the exit's watch
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: tasks.start(host.stop(), name="host-stop"))
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    serving = Server(host)
    server = await asyncio.start_unix_server(serving.serve, path=str(sock), limit=wire.LINE_LIMIT)
    os.chmod(sock, 0o600)
    log_at = _log_size()
    try:
        await within(host.driver.start(), START_S)
    except Exception as exc:
        said = cli_said(_log_since(log_at))
        why = f"{said} ({_why(exc)})" if said else _why(exc)
        journal.add(HostError(message=f"the agent did not start: {why}"))
        log.exception("host %s: the agent did not start", args.agent)
        await host.stop()
        server.close()
        await journal.close()
        return 1
    journal.add(Ready(session=host.session, pid=host.agent_pid, lost=host.lost or ""))
    exit_watch = tasks.start(host.watch_exit(), name="host-exit-watch")
    await host.stopping.wait()
    exit_watch.cancel()
    server.close()
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    await journal.close()
    await serving.close()
    return 0


def cli_said(log: str) -> str:
    """What the agent's CLI wrote on its standard error (the host's log, whose own lines
    carry a time and a level: ``HOST_LINE``), its last ``SAID_LINES`` lines, escaped and
    bounded: a CLI that refuses its arguments says why in its own words."""
    lines = [line for line in log.splitlines() if line.strip() and not HOST_LINE.match(line)]
    said = " / ".join(flat(line.strip()) for line in lines[-SAID_LINES:])
    return shorten(said, SAID_MAX)


def _log_size() -> int:
    """How much of the host's log (its standard error) is written before the agent starts."""
    try:
        return os.fstat(2).st_size
    except OSError:
        return 0


def _log_since(offset: int) -> str:
    """The host's log after ``offset``: the agent's standard error is there too (nothing
    when the host's standard error is no file: a terminal's is not read)."""
    try:
        if not stat.S_ISREG(os.fstat(2).st_mode):
            return ""
        with open("/proc/self/fd/2", "rb") as log:
            log.seek(offset)
            return log.read(LOG_READ_MAX).decode(errors="replace")
    except OSError:
        return ""


def _why(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename} is not installed (not found)"
    if isinstance(exc, asyncio.TimeoutError):
        return f"no session within {START_S:g} s"
    return repr(exc)


def _driver(protocol: str, launched: Launched) -> Driver:
    """The CLI's own protocol's driver, else ACP's (the ACP SDK imported only then: its
    schema is most of a host's start, and a CLI with its own protocol never needs it)."""
    own = clis.own_driver(protocol)
    if own is not None:
        return own(launched)
    from automation.protocol import acp_import

    acp_import.load()
    from automation.protocol.acp_driver import AcpDriver

    return AcpDriver(launched)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The host's arguments."""
    parser = argparse.ArgumentParser(prog="python -m bot.protocol_host", description=__doc__)
    parser.add_argument("--home", required=True, help="SWARM_HOME (its hosts/ folder)")
    parser.add_argument("--agent", required=True, help="the agent's id")
    parser.add_argument("--cwd", required=True, help="the agent's workspace")
    parser.add_argument("--mcp", default="", help="MCP servers for the session, as JSON")
    parser.add_argument(
        "--protocol",
        choices=clis.protocols(),
        default=ACP,
        help="what the agent speaks (ACP; Claude Code's stream-json)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        choices=range(20),
        metavar="0-19",
        help="how much lower the agent's CPU priority is than the host's (default 0)",
    )
    parser.add_argument(
        "--cumulative-usage",
        action="store_true",
        help="the agent's turn end says its session's running usage: journal each turn's own",
    )
    parser.add_argument("command", nargs="+", help="the agent CLI in its ACP mode")
    return parser.parse_args(argv)
