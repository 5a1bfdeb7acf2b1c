#!/usr/bin/python3
"""A small ACP agent for the sandboxed protocol agent's MCP test: at ``session/new`` it keeps
the ``mcpServers`` it was given (``mcp-seen.json`` in its working folder), starts each one as a
CLI starts its servers (inside the sandbox, its environment naming another agent), and calls
its ``report`` tool: ``done`` on T-1 with another agent's name among the arguments, then
``start`` on T-2 (another agent's task); what the server answered goes to
``mcp-answers.jsonl``. Every prompt then ends with ``end_turn``. The system's Python: it runs
inside the agent's sandbox."""

import json
import os
import signal
import subprocess
import sys

OTHER = "Agent-2"
CALLS = [
    {"action": "done", "task": "T-1", "note": "by-mcp", "agent": OTHER},
    {"action": "start", "task": "T-2"},
]
HELLO = {"protocolVersion": "2025-06-18", "capabilities": {},
         "clientInfo": {"name": "probe", "version": "1"}}  # fmt: skip


def send(message: dict) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
    sys.stdout.flush()


def exchange(server: dict) -> list[dict]:
    """``initialize``, then each call of ``CALLS``: the server's answers, in order."""
    given = {e["name"]: e["value"] for e in server.get("env") or []}
    env = {**os.environ, "SWARM_AGENT": OTHER, "SWARM_HOME": "/tmp", **given}
    process = subprocess.Popen(
        [server["command"], *server.get("args", [])],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    pipe_in, pipe_out = process.stdin, process.stdout
    answers: list[dict] = []

    def ask(ident: int, method: str, params: dict) -> None:
        message = {"jsonrpc": "2.0", "id": ident, "method": method, "params": params}
        pipe_in.write(json.dumps(message) + "\n")
        pipe_in.flush()
        for line in pipe_out:
            said = json.loads(line)
            if said.get("id") == ident:
                answers.append(said)
                return
        answers.append({"id": ident, "ended": process.poll()})

    signal.alarm(90)  # bounded: a server that never answers ends the probe
    ask(1, "initialize", HELLO)
    pipe_in.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
    for n, arguments in enumerate(CALLS, start=2):
        ask(n, "tools/call", {"name": "report", "arguments": arguments})
    signal.alarm(0)
    pipe_in.close()
    process.wait(timeout=30)
    return answers


def session(params: dict) -> None:
    """What ``session/new`` does here: the servers kept, each one called."""
    cwd, servers = params.get("cwd") or ".", params.get("mcpServers") or []
    with open(os.path.join(cwd, "mcp-seen.json"), "w", encoding="utf-8") as seen:
        json.dump(servers, seen)
    answers = [a for server in servers for a in exchange(server)]
    with open(os.path.join(cwd, "mcp-answers.jsonl"), "w", encoding="utf-8") as out:
        out.writelines(json.dumps(a) + "\n" for a in answers)


def main() -> None:
    for raw in sys.stdin:
        message = json.loads(raw)
        method, ident = message.get("method"), message.get("id")
        if method == "initialize":
            send({"id": ident, "result": {"protocolVersion": 1, "agentCapabilities": {}}})
        elif method == "session/new":
            session(message.get("params") or {})
            send({"id": ident, "result": {"sessionId": "mcp-1"}})
        elif method == "session/prompt":
            send({"id": ident, "result": {"stopReason": "end_turn"}})


if __name__ == "__main__":
    main()
