"""Claude Code's plan mode over its stream-json (``--permission-mode plan``): the model writes
its plan to the session's plan file (``~/.claude/plans/<name>.md``, the only file it may
write), then asks to leave plan mode with the ``ExitPlanMode`` tool, whose input carries no
plan. Claude Code's own dialog shows the plan and asks "Ready to code?"; over stream-json the
request is a ``can_use_tool`` like any other.

So the host keeps what it saw of the plan: the plan file the model wrote or edited (its path
from the tool call), else the text the model said in the turn, and the request swarm shows
carries it as ``plan``. The choices are the dialog's own: leave plan mode and accept edits
from then on, leave it and approve each edit, or keep planning.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

EXIT_PLAN = "ExitPlanMode"
TITLE = "leaving plan mode to carry out this plan"
PLANS = "/.claude/plans/"  # where Claude Code keeps its sessions' plan files
WRITERS = ("Write", "Edit", "MultiEdit")
PLAN_MAX = 8000  # characters of the plan shown (the rest is in the agent's plan file)
KEEP_PLANNING = "keep-planning"
# (id, the dialog's words, the permission mode chosen with it)
LEAVE = (
    ("plan-accept-edits", "Yes, and auto-accept edits", "acceptEdits"),
    ("plan-approve-edits", "Yes, and manually approve edits", "default"),
)


class PlanSeen:
    """What the host saw of the model's plan in its session: the plan file it wrote, and the
    running turn's text."""

    def __init__(self) -> None:
        self.path: str | None = None
        self._said: list[str] = []

    def turn_started(self) -> None:
        """A new turn: its text starts empty (the plan file stays the session's)."""
        self._said.clear()

    def said(self, text: str) -> None:
        """A piece of the model's text in this turn."""
        self._said.append(text)

    def tool(self, name: str, given: Mapping[str, Any]) -> None:
        """A tool call of the model's: a write or edit of a plan file names the plan."""
        path = given.get("file_path")
        if name in WRITERS and isinstance(path, str) and PLANS in path:
            self.path = path

    def plan(self) -> str:
        """The plan as the person should read it: the plan file, else the turn's text."""
        text = ""
        if self.path is not None:
            try:
                text = Path(self.path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
        text = (text or "".join(self._said)).strip() or "(the agent gave no plan)"
        if len(text) > PLAN_MAX:
            text = text[:PLAN_MAX] + f"\n… (cut: the whole plan is in {self.path or 'its turn'})"
        return text


def options() -> list[dict[str, str]]:
    """The plan dialog's choices, in its words and order."""
    leave = [{"id": i, "name": words, "kind": "allow_once"} for i, words, _mode in LEAVE]
    return [*leave, {"id": KEEP_PLANNING, "name": "No, keep planning", "kind": "reject_once"}]


def answer(chosen: str | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """The ``can_use_tool`` response to the plan's request: leave plan mode into the chosen
    permission mode, or keep planning (also when nobody chose: the request was withdrawn)."""
    mode = next((m for i, _words, m in LEAVE if i == chosen), None)
    if mode is None:
        words = "The person keeps you planning: revise the plan." if chosen else "Cancelled."
        return {"behavior": "deny", "message": words}
    kept = {"type": "setMode", "mode": mode, "destination": "session"}
    return {"behavior": "allow", "updatedInput": dict(given), "updatedPermissions": [kept]}
