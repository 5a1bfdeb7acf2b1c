#!/usr/bin/python3
"""A small ACP agent for issue 67's protocol-route test: at ``session/new`` it runs the probe
(``$PROBE_SCRIPT`` with ``$PROBE_OUT`` and ``$PROBE_PID``) in its working folder, then answers
every prompt with ``end_turn``. The system's Python: it runs inside the agent's sandbox."""

import json
import os
import subprocess
import sys


def send(message: dict) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
    sys.stdout.flush()


def main() -> None:
    for raw in sys.stdin:
        message = json.loads(raw)
        method, ident = message.get("method"), message.get("id")
        if method == "initialize":
            send({"id": ident, "result": {"protocolVersion": 1, "agentCapabilities": {}}})
        elif method == "session/new":
            probe = [os.environ["PROBE_SCRIPT"], os.environ["PROBE_OUT"], os.environ["PROBE_PID"]]
            subprocess.run(["sh", *probe], timeout=120, check=False)
            send({"id": ident, "result": {"sessionId": "probe-1"}})
        elif method == "session/prompt":
            send({"id": ident, "result": {"stopReason": "end_turn"}})


if __name__ == "__main__":
    main()
