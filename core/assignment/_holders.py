"""What a task's card says of the agent working on it: the agent's state
as ``swarm agents`` and the dashboard show it (its decided state and what decided it), and
for a protocol agent its newest transcript row of the task. One state everywhere: a card
never says "working" of an agent every other view shows idle."""

from __future__ import annotations

from dataclasses import dataclass

from core.agents import StateRow, signals, transcript
from core.formats.text import one_line, shorten
from core.store.conn import Conn
from core.tasks import queries as task_queries

EVIDENCE_SHOWN = 120  # characters of the state's evidence on the card


@dataclass(frozen=True)
class Holder:
    """The agent working on a task: its state, and its newest transcript row of the task."""

    agent: str
    state: StateRow
    line: transcript.Line | None = None

    def words(self) -> str:
        """``Agent-2 idle: hook: Stop``, or ``A working: tool call Bash`` (its transcript)."""
        head = f"{self.agent} {self.state.state.value}"
        if self.line is not None:
            return f"{head}: {transcript.status_line(self.line, 160)}"
        evidence = shorten(one_line(self.state.evidence), EVIDENCE_SHOWN)
        return f"{head}: {evidence}" if evidence else head


def in_progress(conn: Conn) -> dict[int, Holder]:
    """task -> its holder, for each task in progress."""
    newest = transcript.activity(conn)
    return {
        task_id: Holder(agent, signals.get_state(conn, agent), newest.get(task_id))
        for task_id, agent in task_queries.in_progress(conn)
    }
