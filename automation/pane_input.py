"""An agent's input as its tmux pane shows it: where the input line is, what it holds, and
whether the agent took a submitted text. Shared by the tmux deliverer and the desktop
driver (which confirms on the pane what its screenshots cannot tell: a submit key the CLI
took as a newline changes the input box just as a submit does).

The input line is the lowest line one of the agent's idle rules takes for it (its rule
file, ``cli``; else every rule file); without one, the pane's last non-blank lines stand
for it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from automation.failures import Failure
from core.agent_state import AgentState
from core.agents import Rule, RuleSet, TextMatch, classify_any, load_rule_sets
from core.clis import CLIS
from core.dialogs.pane import clean_line
from core.formats.text import escape_controls, shorten
from core.models import Agent
from core.tmux import PaneRef, PaneText, pane_age_s

log = logging.getLogger(__name__)

SAMPLE_CHARS = 24  # of the text's last line: looked for in the input and the transcript
TRANSCRIPT_SAMPLE_MIN = 8  # a shorter sample is too common to tell a transcript line by
TRANSCRIPT_LINES = 200  # how far above the input line an earlier try's text is looked for
INPUT_FALLBACK_LINES = 3  # the input, when no rule finds the input line: the last lines
STARTING_S = 30.0  # a pane's process this young that shows no input: its CLI still starting
PASTE_MARK = re.compile(r"(?i)\[past(?:ed|e)\b[^\]]*\]")  # "[Pasted text #1 +80 lines]"
# What an empty input shows in grey, by every CLI (its folder's ``placeholders``)
PLACEHOLDERS = re.compile(
    "^(?:" + "|".join(dict.fromkeys(p for cli in CLIS for p in cli.placeholders)) + ")$"
)
_MARKER = re.compile(r"^(?:[a-z-]*>|❯|›|▌)\s?")  # the input line's prompt marker


def pane_of(agent: Agent) -> PaneRef | None:
    """The agent's tmux pane, or None when it has none."""
    return PaneRef(agent.tmux, agent.tmux_socket) if agent.tmux else None


def sample_of(text: str) -> str:
    """What of ``text`` shows in an input that holds it: the start of its last line's
    longest piece between tabs (a terminal shows a tab as spaces)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    piece = max(lines[-1].split("\t"), key=lambda p: len(p.strip())).strip()
    return piece[:SAMPLE_CHARS]


def _top_of(rule: Rule, lines: Sequence[str], index: int) -> int:
    """The input box's first line: ``index``, or with the rule's ``above`` the topmost of
    the lines right above it that match it."""
    if rule.above is None:
        return index
    while index > 0 and rule.above.search(lines[index - 1]):
        index -= 1
    return index


@dataclass(frozen=True)
class Blocked:
    """Why nothing may be typed into a pane now; ``deferred``: a delivery waits for it
    without using a try (a dialog open, its person's to answer; or a CLI still starting),
    not a CLI away from its input."""

    reason: str
    deferred: bool


def _dialog_open(match: TextMatch) -> str:
    return f"a dialog is open: {escape_controls(shorten(match.line, 80))}"


class PaneInput:
    """Reads agents' inputs on their panes with the agent rule files."""

    def __init__(self, home: Path | None, rule_sets: Sequence[RuleSet] | None = None) -> None:
        self._home = home
        self._rules = tuple(rule_sets) if rule_sets is not None else None

    @property
    def rule_sets(self) -> tuple[RuleSet, ...]:
        """The agent rule files (bundled, and the home's own), read at first use."""
        if self._rules is None:
            rule_sets, errors = load_rule_sets(self._home)
            for error in errors:
                log.warning("%s", error)
            self._rules = tuple(rule_sets)
        return self._rules

    def own_rules(self, agent: Agent | None) -> list[RuleSet]:
        """The agent's rule file (``cli``), else all of them."""
        own = [rs for rs in self.rule_sets if agent is not None and rs.cli == agent.cli]
        return own or list(self.rule_sets)

    def classify(self, agent: Agent, pane: PaneText) -> TextMatch | None:
        """What the agent's rules read on the pane now."""
        return classify_any(self.own_rules(agent), pane.lines, time.time())

    def blocker(self, agent: Agent, pane: PaneText) -> Blocked | None:
        """Why nothing may be pasted into the agent's pane now, or None: a dialog is open
        (its line; its person's to answer: a delivery waits for it without using a try), or
        its CLI's rules find neither its input line nor work on it (a paste would land in
        the terminal before the CLI reads keys). While the pane's process is younger than
        ``STARTING_S`` that is its CLI still starting: the delivery waits for it without
        using a try, as for a dialog; later, the CLI is away from its input (a try used).
        An agent of no known CLI is not judged here. The pane is classified once."""
        match = self.classify(agent, pane)
        if match is not None and match.state is AgentState.WAITING:
            return Blocked(_dialog_open(match), deferred=True)
        if not self._knows(agent):
            return None
        working = match is not None and match.state is AgentState.WORKING
        if working or self.input_line(agent, pane) is not None:
            return None
        age = pane_age_s(pane.ref)
        if age is not None and age < STARTING_S:
            return Blocked(str(Failure.STARTING), deferred=True)
        return Blocked(str(Failure.NOT_AT_INPUT), deferred=False)

    def dialog_since_paste(self, agent: Agent, pane: PaneText, pasted: str) -> str | None:
        """Why the submit key may not be pressed after a paste: a dialog opened since (the
        turn under way called a tool), whose highlighted option the key would take for the
        person; None when none shows. A dialog's line that is the pasted text's own (a
        prompt quoting one, still in the input) is not taken for one."""
        match = self.classify(agent, pane)
        if match is None or match.state is not AgentState.WAITING:
            return None
        if " ".join(match.line.split()) in " ".join(pasted.split()):
            return None
        return f"{_dialog_open(match)} (opened after the paste: the submit key not pressed)"

    def input_line(self, agent: Agent | None, pane: PaneText) -> int | None:
        """The index of the lowest line an idle rule takes for the input line, if any."""
        rules = [
            rule for rs in self.own_rules(agent) for rule in rs.rules
            if rule.state is AgentState.IDLE
        ]  # fmt: skip
        for index in range(len(pane.lines) - 1, -1, -1):
            line = clean_line(pane.lines[index])
            found = next((rule for rule in rules if line and rule.match.search(line)), None)
            if found is not None:
                return _top_of(found, pane.lines, index)
        return None

    def area(self, agent: Agent | None, pane: PaneText) -> tuple[str, ...]:
        """The pane's input: from the input line to the end; without one, its last
        ``INPUT_FALLBACK_LINES`` non-blank lines."""
        index = self.input_line(agent, pane)
        if index is not None:
            return pane.lines[index:]
        shown = [line for line in pane.lines if line.strip()]
        return tuple(shown[-INPUT_FALLBACK_LINES:])

    def holds(self, agent: Agent, pane: PaneText, sample: str) -> bool:
        """Whether the pane's input shows the text (its sample, or a paste marker)."""
        area = self.area(agent, pane)
        return any((sample and sample in line) or PASTE_MARK.search(line) for line in area)

    def earlier(self, agent: Agent, pane: PaneText, sample: str) -> str | None:
        """Where an earlier try's text shows on the pane: ``"input"`` (still unsent),
        ``"transcript"`` (above an input line a rule found: taken), or None. Never the
        transcript without an input line: the text may sit in an input swarm does not
        see, unsubmitted."""
        if self.holds(agent, pane, sample):
            return "input"
        line = self.input_line(agent, pane)
        above = pane.lines[:line][-TRANSCRIPT_LINES:] if line is not None else ()
        if len(sample) >= TRANSCRIPT_SAMPLE_MIN and any(sample in text for text in above):
            return "transcript"
        return None

    def working(self, agent: Agent, pane: PaneText) -> bool:
        """Whether the agent's rules read it at work on the pane (a turn running)."""
        match = self.classify(agent, pane)
        return match is not None and match.state is AgentState.WORKING

    def idle(self, agent: Agent, pane: PaneText) -> bool:
        """Whether the agent's rules read it at its input (no turn, no dialog)."""
        match = self.classify(agent, pane)
        return match is not None and match.state is AgentState.IDLE

    def typed(self, agent: Agent, pane: PaneText) -> str:
        """The text on the input line after its marker ("" when empty or a placeholder)."""
        area = self.area(agent, pane)
        if not area:
            return ""
        words = _MARKER.sub("", clean_line(area[0]), count=1).strip()
        return "" if PLACEHOLDERS.match(words) else words

    def took(
        self,
        agent: Agent,
        pane: PaneText,
        before: tuple[str, ...],
        sample: str,
        busy: bool = False,
    ) -> bool:
        """Whether the agent took a submitted text: its rules read it working, or its input
        changed from ``before`` (the input as the paste left it) and no longer holds the
        text. A submit key the CLI took as a newline leaves the text in the input: not
        taken. ``busy``: it was at work before the key (a turn still running), so its work
        says nothing of the text; only its input does (Gemini CLI ignores an Enter pressed
        during a turn: the text stays in its input)."""
        match = self.classify(agent, pane)
        at_work = match is not None and match.state in (AgentState.WORKING, AgentState.WAITING)
        if at_work and not busy:
            return True  # at work on it, or asking about it (no dialog was open before)
        if at_work and self.holds(agent, pane, sample):
            return False
        if self.input_line(agent, pane) is None and self._knows(agent):
            return False  # a change with no input line on screen says nothing of the text
        return self.area(agent, pane) != before and not self.holds(agent, pane, sample)

    def _knows(self, agent: Agent) -> bool:
        """Whether the agent's CLI has a rule file (its input line can be found)."""
        return agent.cli is not None and any(rs.cli == agent.cli for rs in self.rule_sets)
