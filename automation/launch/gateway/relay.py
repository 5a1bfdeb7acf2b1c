"""The relay inside a sandbox: listens on loopback ports and joins each connection to a Unix
socket (the gateway's or the egress proxy's, bound into the sandbox), byte for byte.

Run as ``python -I relay.py --listen PORT:SOCKET [--listen PORT:SOCKET ...]``: the standard
library only, no swarm import (it runs where the agent can write). Port 0 takes a free one.
Once every port listens it prints one JSON line, ``{"ports": [PORT, ...]}``, in the order given.
With ``-- COMMAND...`` (how a sandbox starts its agent) it prints nothing: once every port
listens it forks, the child relays and the parent becomes COMMAND (its pid, its terminal),
so the agent's CLI never starts before its ports listen; the relay ends with the sandbox, or
once COMMAND ended (outside a sandbox: ``gateway = true``).
It adds nothing and checks nothing: the gateway and the proxy outside do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys

CHUNK = 64 * 1024
HOST = "127.0.0.1"


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(CHUNK):
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
    except OSError:
        sink.close()


async def _join(
    socket_path: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        up_reader, up_writer = await asyncio.open_unix_connection(socket_path)
    except OSError:
        writer.close()
        return
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_pipe(reader, up_writer))
            group.create_task(_pipe(up_reader, writer))
    finally:
        up_writer.close()
        writer.close()


def _pair(text: str) -> tuple[int, str]:
    port, colon, path = text.partition(":")
    if not colon or not port.isdigit() or int(port) > 65535 or not path:
        raise argparse.ArgumentTypeError(f"not PORT:SOCKET: {text!r}")
    return int(port), path


def bind(pairs: list[tuple[int, str]]) -> list[tuple[socket.socket, str]]:
    """A listening loopback socket for each pair, with the Unix socket it leads to."""
    found = []
    for port, path in pairs:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(128)
        found.append((listener, path))
    return found


async def serve(pairs: list[tuple[int, str]], quiet: bool = False) -> None:
    """Listen on each port, join each connection to its socket, until SIGTERM or SIGINT."""
    await _serve(bind(pairs), quiet)


async def _serve(
    bound: list[tuple[socket.socket, str]], quiet: bool = False, parent: int | None = None
) -> None:
    servers = []
    for listener, path in bound:

        async def handle(
            r: asyncio.StreamReader, w: asyncio.StreamWriter, path: str = path
        ) -> None:
            await _join(path, r, w)

        servers.append(await asyncio.start_server(handle, sock=listener))
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    if not quiet:
        print(json.dumps({"ports": ports}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watched = _watch(loop, parent, stop) if parent is not None else None
    await stop.wait()
    if watched is not None:
        loop.remove_reader(watched)
        os.close(watched)
    for server in servers:
        server.close()


def _watch(loop: asyncio.AbstractEventLoop, parent: int, stop: asyncio.Event) -> int | None:
    """``stop`` set once ``parent`` (the command it relays for) ended, by a pidfd of it:
    outside a sandbox nothing else ends the relay with it. Its fd (None: already ended)."""
    try:
        watched = os.pidfd_open(parent)
    except ProcessLookupError:
        stop.set()
        return None
    loop.add_reader(watched, stop.set)
    return watched


def run_beside(pairs: list[tuple[int, str]], command: list[str]) -> None:
    """Listen, then relay in a child while this process becomes ``command``."""
    bound, parent = bind(pairs), os.getpid()
    if os.fork() == 0:  # the child relays; SIGINT is its agent's (a pane's Ctrl+C), not its
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)  # the agent's streams are its own, not held
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(bound, quiet=True, parent=parent))
        os._exit(0)
    for listener, _ in bound:
        listener.close()
    os.execvp(command[0], command)


def main(argv: list[str] | None = None) -> int:
    """The relay's command line."""
    words = sys.argv[1:] if argv is None else list(argv)
    command = words[words.index("--") + 1 :] if "--" in words else []
    words = words[: words.index("--")] if "--" in words else words
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=_pair, action="append", required=True,
                        metavar="PORT:SOCKET")  # fmt: skip
    args = parser.parse_args(words)
    if command:
        run_beside(args.listen, command)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.listen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
