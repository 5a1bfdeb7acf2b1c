"""A scripted agent CLI for ``swarm desktop up`` tests, run as ``claude`` (a script of that
name on PATH): the prompt of :mod:`tests.apps.term_chat` (prompt_toolkit, bracketed paste).

Records under ``$AGENT_CLI_DIR``, per ``$SWARM_AGENT``: ``<agent>.jsonl`` every message it
receives (kept across restarts: its "conversation"), ``<agent>.starts.jsonl`` one line per
start (arguments, folder, SWARM_AGENT, SWARM_HOME, pid) and ``<agent>.ready`` (its pid)
once the first prompt is drawn. With ``--continue`` it says how many messages it resumed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from prompt_toolkit import print_formatted_text

from tests.apps.term_chat import TermChat


def main(argv: list[str]) -> None:
    """Record the start, then prompt until Ctrl+D."""
    folder = Path(os.environ["AGENT_CLI_DIR"])
    agent = os.environ.get("SWARM_AGENT", "unknown")
    start = {
        "argv": argv,
        "cwd": os.getcwd(),
        "agent": os.environ.get("SWARM_AGENT"),
        "home": os.environ.get("SWARM_HOME"),
        "pid": os.getpid(),
    }
    with (folder / f"{agent}.starts.jsonl").open("a", encoding="utf-8") as starts:
        starts.write(json.dumps(start) + "\n")
    ready = folder / f"{agent}.ready"
    ready.unlink(missing_ok=True)
    records = folder / f"{agent}.jsonl"
    with records.open("a", encoding="utf-8") as out:
        chat = TermChat(out, agent, ready)
        if "--continue" in argv and records.exists():
            chat.count = len(records.read_text(encoding="utf-8").splitlines())
            print_formatted_text(f"resumed {chat.count} messages")
        chat.run()


if __name__ == "__main__":
    main(sys.argv[1:])
