"""What a button carries (its ``callback_data``, at most 64 bytes): the action and what it
acts on, so a press after a restart still means the same. Read back by ``parse``."""

from __future__ import annotations

import re
from dataclasses import dataclass

CARD_ACTIONS = ("done", "retry", "reassign")
NEED_ACTIONS: tuple[str, ...] = ("approve", "reject", "retry", "dismiss", "handon", "nudge")
NEED_ACTIONS += ("cancel", "accept", "fail", "option", "reassign", "allow", "deny")
CI_ACTIONS = ("retry", "takeover", "close")
GATE_ACTIONS = ("approve", "reject")
ACTIONS = {"t": CARD_ACTIONS, "p": ("choose",), "g": GATE_ACTIONS, "n": NEED_ACTIONS}
ACTIONS["c"] = CI_ACTIONS
_REF = re.compile(r"^[A-Z]-\d{1,18}$")
_DATA = re.compile(
    r"^(?P<kind>[tpgnc]):(?P<action>[a-z]{1,10}):(?P<target>[A-Z0-9-]{1,24})"
    r"(?::(?P<index>\d{1,2}))?$"
)
_TO_AGENT = re.compile(r"^a:(?P<target>[A-Z]-\d{1,18}):(?P<agent>[A-Za-z0-9][A-Za-z0-9._-]{0,63})$")
DATA_LIMIT = 64  # bytes of a button's callback_data


@dataclass(frozen=True)
class Press:
    """A pressed button: ``kind`` (``t`` a task's card, ``p`` a prompt's option, ``g`` a
    gate, ``n`` an inbox item, ``c`` a CI failure, ``a`` the agent an item's task is
    reassigned to), the action, its target, an option's index, the agent."""

    kind: str
    action: str
    target: str
    index: int = 0
    agent: str = ""

    @property
    def data(self) -> str:
        """The ``callback_data`` that carries it."""
        if self.kind == "a":
            return f"a:{self.target}:{self.agent}"
        index = f":{self.index}" if self.kind == "p" or self.action == "option" else ""
        return f"{self.kind}:{self.action}:{self.target}{index}"


def parse(data: str) -> Press | None:
    """The press ``data`` carries; None for data no button of ours carries (an unknown
    action, a task or prompt that is no number, an item that is no reference)."""
    to_agent = _TO_AGENT.match(data)
    if to_agent is not None:
        return Press("a", "reassign", to_agent["target"], agent=to_agent["agent"])
    found = _DATA.match(data)
    if found is None or found["action"] not in ACTIONS[found["kind"]]:
        return None
    target = found["target"]
    if not (_REF.match(target) if found["kind"] == "n" else target.isdigit()):
        return None
    return Press(found["kind"], found["action"], target, int(found["index"] or 0))


def task_press(action: str, task_id: int) -> Press:
    """Done, Retry or Reassign on a task's card."""
    return Press("t", action, str(task_id))


def option_press(prompt_id: int, index: int) -> Press:
    """A permission prompt's option by its index."""
    return Press("p", "choose", str(prompt_id), index)


def gate_press(action: str, task_id: int) -> Press:
    """Approve or reject a waiting gate."""
    return Press("g", action, str(task_id))


def need_press(action: str, ref: str, index: int = 0) -> Press:
    """An inbox item's action (``option``: a prompt's option by index)."""
    return Press("n", action, ref, index)


def agent_press(ref: str, agent: str) -> Press | None:
    """Reassign ``ref``'s task to ``agent``; None when its data would pass Telegram's 64
    bytes (a long agent id: ``/reassign`` names it)."""
    press = Press("a", "reassign", ref, agent=agent)
    return press if len(press.data.encode()) <= DATA_LIMIT else None


def ci_press(action: str, task_id: int) -> Press:
    """Retry, take over or close a PR whose CI failed past its retries."""
    return Press("c", action, str(task_id))
