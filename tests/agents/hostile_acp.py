"""An ACP agent that writes what a broken or hostile agent writes, for the host's hardening
tests: JSON-RPC by hand over its standard streams (no SDK: it must be able to send anything).

It answers ``initialize`` and ``session/new``; a prompt's text is a list of commands split by
``;``, run in order, then the turn ends (``end_turn``; ``cancelled`` after a
``session/cancel``; with the session's running usage once a ``use`` said some, as Mistral
Vibe's ACP does). With ``$HOSTILE_SESSIONS`` (a file: each session's running usage, kept
over its processes) it also loads a session (``session/load``), each new one has a new id,
and its config options name its model (``hostile-model``):

    say TEXT        an agent_message_chunk
    chunk N         an agent_message_chunk of N characters
    raw JSON        that line, as it is
    line N          one line of N bytes that is no JSON
    ask-diff N      an edit's permission request whose diff holds N characters (old and new),
                    then says the option chosen
    request M JSON  a request of method M with JSON as its params, then says the answer (its
                    result, or its error)
    deep N          a session/update nested N deep
    probe OP        connects to its host's socket ($HOSTILE_SOCKET), asks OP, says the answer
    close-output    closes its output and runs on
    use IN OUT      IN input and OUT output tokens more in the session's running usage
    wait S          S seconds of silence, ended early by a ``session/cancel``
    deaf S          S seconds of silence that no cancel ends (an agent that does not answer
                    its cancel: the turn's answer comes late)
    after-deaf S    silence until the last deaf turn's late answer was written (at most S
                    seconds, ended early by a ``session/cancel``)

With ``$HOSTILE_IGNORE_TERM`` it ignores SIGTERM, as Gemini CLI over ACP does, and ends only
at its input's end; with ``$HOSTILE_ENDED`` (a file) it writes ``input ended`` there then.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

SESSION = os.environ.get("HOSTILE_SESSION_ID", "hostile-1")  # (an id with escapes: its words)
MODEL = {"type": "select", "id": "model", "name": "Model", "category": "model",
         "currentValue": "hostile-model",
         "options": [{"value": "hostile-model", "name": "Hostile"}]}  # fmt: skip
_sessions: dict[str, list[int]] = {}  # each session's running usage: input, output
_open = [SESSION]  # the session open now
_KEPT = os.environ.get("HOSTILE_SESSIONS")
_out = sys.stdout.buffer
_lock = threading.Lock()
_answers: dict[int, Any] = {}
_cancelled = threading.Event()
_deaf_answered = threading.Event()  # a deaf turn's late answer was written
_idents = itertools.count(900)  # the ids of its requests to the client


def write(line: bytes) -> None:
    with _lock:
        _out.write(line if line.endswith(b"\n") else line + b"\n")
        _out.flush()


def send(message: dict[str, Any]) -> None:
    write(json.dumps({"jsonrpc": "2.0", **message}).encode())


def update(kind: str, **fields: Any) -> None:
    params = {"sessionId": _open[0], "update": {"sessionUpdate": kind, **fields}}
    send({"method": "session/update", "params": params})


def say(text: str) -> None:
    update("agent_message_chunk", content={"type": "text", "text": text})


def ask(method: str, params: dict[str, Any]) -> Any:
    """A request to the client; its result, or its error."""
    ident = next(_idents)
    send({"id": ident, "method": method, "params": params})
    while ident not in _answers:
        time.sleep(0.01)
    return _answers.pop(ident)


def ask_diff(size: int) -> None:
    call = {"toolCallId": "edit-1", "title": "Edit big.txt", "kind": "edit",
            "content": [{"type": "diff", "path": "/work/big.txt", "oldText": "a" * size,
                         "newText": "b" * size}]}  # fmt: skip
    options = [{"optionId": "allow", "name": "Allow", "kind": "allow_once"},
               {"optionId": "reject", "name": "Reject", "kind": "reject_once"}]  # fmt: skip
    answer = ask("session/request_permission",
                 {"sessionId": SESSION, "toolCall": call, "options": options})  # fmt: skip
    say(f"answered {json.dumps(answer)}")


def ask_yes_only() -> None:
    """A permission request whose every option allows (no way to say no of its own)."""
    call = {"toolCallId": "run-1", "title": "Run rm -rf build", "kind": "execute"}
    options = [{"optionId": "once", "name": "Allow once", "kind": "allow_once"},
               {"optionId": "always", "name": "Always allow", "kind": "allow_always"}]  # fmt: skip
    answer = ask("session/request_permission",
                 {"sessionId": SESSION, "toolCall": call, "options": options})  # fmt: skip
    say(f"answered {json.dumps(answer)}")


def probe(op: str) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(os.environ["HOSTILE_SOCKET"])
        sock.sendall(json.dumps({"op": op, "request": f"{SESSION}#1", "option": "allow"}).encode()
                     + b"\n")  # fmt: skip
        answer = sock.makefile("rb").readline().decode().strip()
    say(f"host said {answer}")


def run(command: str) -> None:
    word, _, rest = command.strip().partition(" ")
    if word == "say":
        say(rest)
    elif word == "chunk":
        say("c" * int(rest))
    elif word == "raw":
        write(rest.encode())
    elif word == "line":
        write(b"z" * int(rest))
    elif word == "ask-diff":
        ask_diff(int(rest))
    elif word == "ask-yes-only":
        ask_yes_only()
    elif word == "deep":
        depth = int(rest)
        write(b'{"jsonrpc":"2.0","method":"session/update","params":' + b"[" * depth
              + b"]" * depth + b"}")  # fmt: skip
    elif word == "request":
        method, _, params = rest.partition(" ")
        say(f"answered {json.dumps(ask(method, json.loads(params)))}")
    elif word == "probe":
        probe(rest)
    elif word == "use":
        used, (more_in, more_out) = _sessions.get(_open[0], [0, 0]), rest.split()
        _sessions[_open[0]] = [used[0] + int(more_in), used[1] + int(more_out)]
        _keep_sessions()
    elif word == "wait":
        _cancelled.wait(float(rest))
    elif word == "deaf":
        _deaf_answered.clear()
        time.sleep(float(rest))
    elif word == "after-deaf":
        deadline = time.monotonic() + float(rest)
        while not _deaf_answered.wait(0.05) and not _cancelled.is_set():
            if time.monotonic() >= deadline:
                break
    elif word == "close-output":
        _out.close()
        os.close(1)
        time.sleep(600)


def prompt(ident: Any, params: dict[str, Any]) -> None:
    _cancelled.clear()
    text = "".join(b.get("text", "") for b in params.get("prompt") or [])
    deaf = False
    for command in text.split(";"):
        if _cancelled.is_set() and not deaf:
            break
        deaf = command.strip().startswith("deaf ")
        run(command)
    reason = "cancelled" if _cancelled.is_set() and not deaf else "end_turn"
    result: dict[str, Any] = {"stopReason": reason}
    if _open[0] in _sessions:
        used = _sessions[_open[0]]
        result["usage"] = {"inputTokens": used[0], "outputTokens": used[1],
                           "totalTokens": sum(used)}  # fmt: skip
    send({"id": ident, "result": result})
    if deaf:
        _deaf_answered.set()


def _keep_sessions() -> None:
    if _KEPT:
        with open(_KEPT, "w", encoding="utf-8") as kept:
            json.dump(_sessions, kept)


def new_session() -> dict[str, Any]:
    """A new session: ``hostile-1`` (with ``$HOSTILE_SESSIONS``, the next number kept)."""
    if not _KEPT:
        return {"sessionId": SESSION}
    _open[0] = f"hostile-{len(_sessions) + 1}"
    _sessions[_open[0]] = [0, 0]
    _keep_sessions()
    return {"sessionId": _open[0], "configOptions": [MODEL]}


def main() -> None:
    if os.environ.get("HOSTILE_IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if _KEPT and os.path.exists(_KEPT):
        with open(_KEPT, encoding="utf-8") as kept:
            _sessions.update(json.load(kept))
    for raw in sys.stdin.buffer:
        message = json.loads(raw)
        method, ident = message.get("method"), message.get("id")
        if method == "initialize":
            capabilities = {"loadSession": True} if _KEPT else {}
            send({"id": ident, "result": {"protocolVersion": 1,
                                          "agentCapabilities": capabilities}})  # fmt: skip
        elif method == "session/new":
            send({"id": ident, "result": new_session()})
        elif method == "session/load" and message["params"]["sessionId"] in _sessions:
            _open[0] = message["params"]["sessionId"]  # its running usage goes on
            send({"id": ident, "result": {"configOptions": [MODEL]}})
        elif method == "session/load":
            send({"id": ident, "error": {"code": -32002, "message": "no such session"}})
        elif method == "session/prompt":
            threading.Thread(target=prompt, args=(ident, message["params"]), daemon=True).start()
        elif method == "session/cancel":
            _cancelled.set()
        elif method is None and ident is not None:
            _answers[ident] = message["result"] if "result" in message else message.get("error")
    if os.environ.get("HOSTILE_ENDED"):
        with open(os.environ["HOSTILE_ENDED"], "w", encoding="utf-8") as ended:
            ended.write("input ended")


if __name__ == "__main__":
    main()
