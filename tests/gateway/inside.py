"""Run inside a network namespace (standard library only): start the relay, reach the
model gateway and the egress proxy through it, try the host's loopback; print one JSON line.

``python -I inside.py RELAY MODEL_SOCKET EGRESS_SOCKET HOST_PORT ECHO_PORT``
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request


def main() -> None:
    relay, model_socket, egress_socket, host_port, echo_port = sys.argv[1:6]
    process = subprocess.Popen(
        [sys.executable, "-I", relay, "--listen", f"0:{model_socket}",
         "--listen", f"0:{egress_socket}"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        model_port, egress_port = json.loads(process.stdout.readline())["ports"]
        print(json.dumps({
            "model": _ask_model(model_port),
            "host_loopback": _connect(int(host_port)),
            "echo": _tunnel(egress_port, f"127.0.0.1:{echo_port}"),
            "denied": _tunnel(egress_port, f"127.0.0.1:{host_port}"),
            "dns": _resolve("example.com"),
        }))  # fmt: skip
    finally:
        process.terminate()
        process.wait(10)


def _ask_model(port: int) -> object:
    body = {"model": "local", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/messages", data=json.dumps(body).encode(),
        headers={"x-api-key": "placeholder", "anthropic-version": "2023-06-01",
                 "content-type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _resolve(name: str) -> str:
    try:
        socket.getaddrinfo(name, 443)
    except OSError as exc:
        return type(exc).__name__
    return "resolved"


def _connect(port: int) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3):
            return "connected"
    except OSError as exc:
        return type(exc).__name__


def _tunnel(proxy_port: int, target: str) -> str:
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=10) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\n\r\n".encode())
        reader = sock.makefile("rb")
        status = reader.readline().decode().strip()
        if " 200 " not in status:
            return status
        reader.readline()
        sock.sendall(b"echo me\n")
        return reader.readline().decode().strip()


if __name__ == "__main__":
    main()
