"""The ``swarm`` command inside an agent's sandbox: it hands its arguments to the agent's door
(``door.sock`` beside it, a Unix socket swarm serves for that agent alone) and prints the
answer.

``swarm hook`` (its CLI's hooks) also hands over its stdin, the event's JSON, prints the
answer (a ``PermissionRequest``'s decision) and never fails its agent: it exits 0 always.
``swarm mcp`` (swarm's MCP server, which the agent's CLI launches) is a stream: once the
door says ``{"stream": true}``, stdin goes to the server and its output to stdout until
either ends.

Standard library only: this file is copied whole into the door's folder as the sandbox's
``swarm`` and run by swarm's Python with ``-I -S`` (none of swarm's packages are in the
sandbox, nor its database).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import threading

WAIT_S = 600.0  # a command's longest run (``swarm ask --wait``), plus its start
REPLY_MAX = 4 << 20
CHUNK = 1 << 16


def forward(argv: list[str], path: str) -> int:
    """Send ``argv`` and the working folder; print the command's output; its exit status
    (a hook's: 0 always)."""
    request: dict[str, object] = {"argv": argv, "cwd": os.getcwd()}
    if argv[:1] == ["hook"]:
        piped = sys.stdin is not None and not sys.stdin.isatty()
        request["stdin"] = sys.stdin.buffer.read().decode("utf-8", "replace") if piped else ""
        _exchange(request, path)
        return 0
    if argv == ["mcp"]:
        return _stream(request, path)
    return _exchange(request, path)


def closed_line(exc: Exception) -> str:
    """The one line for a door that could not be reached: refused by a sandbox of the CLI's
    own (Codex's ``workspace-write`` refuses every socket write: EPERM), else closed."""
    if isinstance(exc, PermissionError) and exc.errno == errno.EPERM:
        return (f"swarm: error: this shell may not reach swarm's door ({exc}): its CLI's own "
                "sandbox refuses sockets; report with swarm's MCP tools, or run the CLI with "
                "its own sandbox off")  # fmt: skip
    return f"swarm: error: swarm's door is closed ({exc}): ask a person to run swarm desktop up"


def _stream(request: dict[str, object], path: str) -> int:
    """Carry stdin to the door and the door's bytes to stdout until the door ends."""
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(WAIT_S)
        sock.connect(path)
        sock.sendall(json.dumps(request).encode() + b"\n")
        replies = sock.makefile("rb")
        reply = json.loads(replies.readline(REPLY_MAX) or b"{}")
    except (OSError, ValueError) as exc:
        print(closed_line(exc), file=sys.stderr)
        return 2
    if reply.get("stream") is not True:
        sys.stderr.write(str(reply.get("stderr", "")))
        return reply.get("rc") if isinstance(reply.get("rc"), int) else 2
    sock.settimeout(None)  # a session lasts as long as its client
    threading.Thread(target=_send_stdin, args=(sock,), daemon=True).start()
    out = sys.stdout.buffer
    try:
        while chunk := replies.read1(CHUNK):
            out.write(chunk)
            out.flush()
    except OSError:
        pass
    return 0


def _send_stdin(sock: socket.socket) -> None:
    """stdin to the door; at its end, the door's side is told (its server's stdin closes)."""
    try:
        while chunk := os.read(0, CHUNK):
            sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _exchange(request: dict[str, object], path: str) -> int:
    """One request to the door; its output printed; its exit status."""
    line = json.dumps(request).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(WAIT_S)
            sock.connect(path)
            sock.sendall(line)
            with sock.makefile("rb") as replies:
                reply = json.loads(replies.readline(REPLY_MAX) or b"{}")
    except (OSError, ValueError) as exc:
        print(closed_line(exc), file=sys.stderr)
        return 2
    sys.stdout.write(str(reply.get("stdout", "")))
    sys.stderr.write(str(reply.get("stderr", "")))
    code = reply.get("rc")
    return code if isinstance(code, int) else 2


if __name__ == "__main__":
    sys.exit(forward(sys.argv[1:], os.path.join(os.path.dirname(__file__), "door.sock")))
