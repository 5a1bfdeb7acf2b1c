"""What each saved real pane shows, as a person reads it: the labels the state-accuracy
figures (``bench/pane_accuracy.py``) and their test compare swarm's reading with.

A label is the state the screen means, never what the rules make of it: Codex's
``streaming`` pane is an answer still arriving (working) although no line on it says so.
Claude Code's labels are its table in ``tests/watch/test_claude_code_panes.py``.
"""

from __future__ import annotations

from pathlib import Path

from core.agent_state import AgentState
from core.clis import panes
from tests.watch.test_claude_code_panes import REAL as CLAUDE_CODE
from tools.install_agents import PINS

IDLE, WORKING, WAITING = AgentState.IDLE, AgentState.WORKING, AgentState.WAITING
LIMITED, ERRORED = AgentState.LIMITED, AgentState.ERRORED
VERSIONS = {pin.cli: pin.version for pin in PINS}  # the pinned versions, by CLI
LABELS: dict[str, dict[str, AgentState]] = {
    "claude-code": {name: state for name, (_, state, _) in CLAUDE_CODE.items()},
    "codex": {
        "answer": IDLE,
        "busy-reconnecting": LIMITED,  # retrying a 429 on its own
        "busy-reconnecting-3": LIMITED,
        "approval-dialog": WAITING,  # --sandbox read-only --ask-for-approval on-request
        "read-only-start": IDLE,
        "sandbox-failed": IDLE,  # its own sandbox failed a command; its turn is over
        "full-access-start": IDLE,  # --dangerously-bypass-approvals-and-sandbox
        "full-access-answer": IDLE,
        "error-500": ERRORED,
        "error-after-limit": ERRORED,  # a 400's error below an earlier turn's 429
        "hooks-review": WAITING,
        "new-chat-where": WAITING,
        "idle-start": IDLE,
        "interrupted": IDLE,  # a turn stopped by its interrupt keys
        "limit-429": LIMITED,
        "limit-then-answer": IDLE,
        "quota-exceeded": LIMITED,
        "reconnecting": ERRORED,  # retrying a 500 on its own: no work done meanwhile
        "reconnecting-stream": ERRORED,  # retrying a stream cut off (an idle timeout)
        "stream-disconnected": ERRORED,
        "streaming": WORKING,
        "stream-frozen": WORKING,  # a turn not over: its stream stopped mid-answer
        "working": WORKING,
    },
    "gemini": {
        "answer": IDLE,
        "idle-start": IDLE,
        "interrupted": IDLE,  # a turn stopped by its interrupt keys
        "permission-dialog": WAITING,
        "error-400": ERRORED,
        "limit-429-minute": LIMITED,  # its spinner on while it retries a per-minute 429
        "quota-daily": LIMITED,
        "quota-dialog": WAITING,
        "quota-dialog-keep-trying": WAITING,  # a person's choice: keep trying, or stop
        "quota-dialog-switch": WAITING,
        "quota-then-answer": IDLE,
        "working": WORKING,
        "yolo-start": IDLE,  # --approval-mode yolo: its input line starts with "*"
        "yolo-working": WORKING,
        "yolo-shell-ran": IDLE,  # a command run without asking, its answer given
        "auto-edit-start": IDLE,  # --approval-mode auto_edit
    },
    "aider": {
        "answer": IDLE,
        "confirm-command": WAITING,
        "error-500-gave-up": ERRORED,
        "error-500-retrying": ERRORED,  # retrying on its own: no work done meanwhile
        "idle-start": IDLE,
        "interrupted": IDLE,  # a turn stopped by its interrupt keys
        "limit-429-gave-up": LIMITED,
        "limit-429-retrying": LIMITED,
        "limit-then-answer": IDLE,
        "streaming": WORKING,  # its answer arriving below the echo of its prompt
        "working": WORKING,
        # started as docs/agents.md says: the model's own edit format, a bare "> " prompt
        "whole-answer": IDLE,
        "whole-idle-start": IDLE,
        "whole-interrupted": IDLE,
        "whole-streaming": WORKING,
    },
    "opencode": {
        "answer": IDLE,
        "error-500-gave-up": ERRORED,
        "error-500-retrying": ERRORED,  # retrying on its own: no work done meanwhile
        "idle-start": IDLE,
        "interrupted": IDLE,  # a turn stopped by its interrupt keys
        "interrupt-armed": WORKING,  # one Escape of its two: the turn runs on
        "limit-429-gave-up": LIMITED,
        "limit-429-retrying": LIMITED,
        "limit-429-retrying-live": LIMITED,
        "limit-then-answer": IDLE,
        "permission-external-dir": WAITING,  # "△ Permission required" (before: errored)
        "working": WORKING,
    },
}


def real_panes(cli: str) -> dict[str, Path]:
    """The saved real panes of ``cli``'s pinned version, by name (without the prefix)."""
    prefix = f"{cli}-{VERSIONS[cli]}-"
    folder = panes(cli)
    return {p.stem.removeprefix(prefix): p for p in sorted(folder.glob(f"{prefix}*.txt"))}
