"""Claude Code's plan mode over its stream-json (``--permission-mode plan``): the model writes
its plan to the session's plan file (``~/.claude/plans/<name>.md``, the only file it may
write), then asks to leave plan mode with the ``ExitPlanMode`` tool, whose input carries no
plan. Claude Code's own dialog shows the plan and asks "Ready to code?"; over stream-json the
request is a ``can_use_tool`` like any other.

So the host keeps what it saw of the plan: the plan file's text as the model's own tool calls
made it (its ``Write``'s content, its ``Edit``s applied), else the text the model said in the
turn, and the request swarm shows carries it as ``plan``. The file itself is never read: the
host runs outside the agent's sandbox, and the path is the model's to name (a link, a FIFO, a
file of the person's "under" ``.claude/plans/..``). The choices are the dialog's own: leave
plan mode and accept edits from then on, leave it and approve each edit, or keep planning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXIT_PLAN = "ExitPlanMode"
TITLE = "leaving plan mode to carry out this plan"
PLANS = "/.claude/plans/"  # where Claude Code keeps its sessions' plan files
WRITERS = ("Write", "Edit", "MultiEdit")
PLAN_MAX = 8000  # characters of the plan shown (the rest is in the agent's plan file)
PLAN_KEPT = 1 << 20  # characters of the plan file's text kept (a write past it is cut)
KEEP_PLANNING = "keep-planning"
# (id, the dialog's words, the permission mode chosen with it)
LEAVE = (
    ("plan-accept-edits", "Yes, and auto-accept edits", "acceptEdits"),
    ("plan-approve-edits", "Yes, and manually approve edits", "default"),
)


class PlanSeen:
    """What the host saw of the model's plan in its session: the plan file it wrote (its
    path, and its text as the model's tool calls made it), and the running turn's text."""

    def __init__(self) -> None:
        self.path: str | None = None
        self._text: str | None = None  # None: not known (an edit of a file never seen whole)
        self._said: list[str] = []

    def turn_started(self) -> None:
        """A new turn: its text starts empty (the plan file stays the session's)."""
        self._said.clear()

    def said(self, text: str) -> None:
        """A piece of the model's text in this turn."""
        self._said.append(text)

    def tool(self, name: str, given: Mapping[str, Any]) -> None:
        """A tool call of the model's: a write or edit of a plan file names the plan and
        makes its text (a ``Write``'s content; an edit applied to the text seen)."""
        path = given.get("file_path")
        if name not in WRITERS or not isinstance(path, str) or PLANS not in path:
            return
        content = given.get("content")
        if name == "Write":
            self.path, self._text = path, content[:PLAN_KEPT] if isinstance(content, str) else None
            return
        if path != self.path:
            self.path, self._text = path, None
        edits = given.get("edits") if name == "MultiEdit" else [given]
        self._text = _edited(self._text, edits)

    def plan(self) -> str:
        """The plan as the person should read it: the plan file's text, else the turn's."""
        text = (self._text or "".join(self._said)).strip() or "(the agent gave no plan)"
        if len(text) > PLAN_MAX:
            text = text[:PLAN_MAX] + f"\n… (cut: the whole plan is in {self.path or 'its turn'})"
        return text


def _edited(text: str | None, edits: Any) -> str | None:
    """``text`` with the edits made as Claude Code's ``Edit`` makes them (an ``old_string``
    found once, or everywhere with ``replace_all``; one that matches nothing or more than
    once is refused by the CLI: the file stays); None when the text is not known."""
    if text is None or not isinstance(edits, list):
        return None
    for edit in edits:
        old, new = (
            edit.get(k) if isinstance(edit, dict) else None for k in ("old_string", "new_string")
        )
        if not isinstance(old, str) or not isinstance(new, str) or not old:
            return None
        found = text.count(old)
        if len(text) + found * (len(new) - len(old)) > 2 * PLAN_KEPT:
            return None  # an edit that would make it huge: not kept
        if edit.get("replace_all") is True or found == 1:
            text = text.replace(old, new)
    return text[:PLAN_KEPT]


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
