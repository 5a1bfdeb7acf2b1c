"""A protocol agent's transcript written: what its host's journal says (``core.hosts.wire``),
kept as rows of ``agent_transcript`` in the transaction that takes the
entries in (``protocol_events.record``).

One row per thing said: a prompt taken, an answer (its message chunks joined, continued by
the next batch while nothing else came between), a tool call (one row per call, its status
updated), a plan, a permission request (its answer written on it), a turn's end or failure,
the agent's exit. A row written or changed takes its agent's next ``rev``, so the dashboard
streams the rows after the rev it showed. Bounded: ``TEXT_MAX`` characters a row (a longer
answer goes on in a new row) and each agent's newest ``KEEP`` rows.

Nothing here is trusted: the words are stored as the agent gave them (cut to size) and each
front end escapes them as it shows them (``status_line`` for one line: controls escaped).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from core.agent_state import Signal
from core.agents import _transcript_queries as queries
from core.agents._queries import task_in_hand
from core.agents._transcript_rows import (
    EXITED,
    MESSAGE,
    OUTPUT_MARK,
    PERMISSION,
    PLAN,
    PROMPT,
    RETRY,
    TEXT_MAX,
    TOOL,
    TURN_END,
    TURN_ERROR,
    Line,
)
from core.dialogs.queries import by_session
from core.formats.text import flat, shorten
from core.hosts.answers import answers_of
from core.hosts.entries import (
    ApiRetry,
    Entry,
    Exited,
    PermissionAsked,
    PermissionDone,
    Turn,
    TurnEnd,
    TurnError,
    Update,
)
from core.hosts.turns import API_RETRY
from core.store.conn import Conn

KEEP = 2000  # rows per agent
FINAL = ("completed", "failed")  # a tool call's last statuses


# Whether a delivery exists and the task its message is for (None: none): the deliveries'
# owner's read (``core.delivery._message_queries.task_of_delivery``), passed in by the loop
# that takes the entries in (core.delivery imports core.agents, not the reverse)
TaskOfDelivery = Callable[[Conn, int], tuple[bool, int | None]]


class Transcriber:
    """One batch of one agent's entries written as rows (``protocol_events.record``'s
    transaction): message chunks gather in the open answer until something else comes."""

    def __init__(self, conn: Conn, agent: str, now: float, task_of: TaskOfDelivery) -> None:
        self.conn, self.agent, self.now, self.task_of = conn, agent, now, task_of
        last = queries.last_row(conn, agent)  # the newest by rev: the next rev follows it
        self.rev = last.rev + 1 if last is not None else 1
        self.answer: Line | None = last if last is not None and last.kind == MESSAGE else None
        self.delivery: int | None = last.delivery_id if last is not None else None
        self.task: int | None = last.task_id if last is not None else None
        self.looked = False  # the held task was looked up (rows before any turn)
        self.grown = False  # the open answer has words not yet written
        self.ended = False  # a turn ended in this batch: the agent's rows are pruned

    def take(self, entry: Entry) -> None:
        """One journal entry's row, if it says anything people read."""
        at = entry.at or self.now
        match entry.body:
            case Update(outside=False) as update:  # (outside: a loaded session's history)
                self._update(update, at)
            case Turn(delivery=delivery, text=text):
                self._delivery(delivery)
                self._add(PROMPT, at, text=text)
            case PermissionAsked() as asked:
                self._asked(asked, at)
            case PermissionDone() as done:
                self._change(
                    PERMISSION, done.request, at, _answer(done, self._decider(done.request))
                )
            case TurnEnd(delivery=delivery, stop_reason=reason):
                self._delivery(delivery)
                self._add(TURN_END, at, status=reason or "end_turn")
                self.ended = True
            case TurnError(delivery=delivery, message=message):
                self._delivery(delivery)
                self._add(TURN_ERROR, at, text=message or "no message")
                self.ended = True
            case Exited(code=code):
                self._add(EXITED, at, status=str(code))

    def finish(self) -> None:
        """Write the open answer; at a turn's end keep only the agent's newest rows."""
        self._flush()
        if self.ended:
            queries.prune(self.conn, self.agent, KEEP)

    def _update(self, update: Update, at: float) -> None:
        kind = update.kind
        if kind == "agent_message_chunk":
            self._say(update.text, at)
        elif kind == "tool_call":
            self._add(TOOL, at, call=update.tool_call_id or None, status=update.status or None,
                      text=_with_output(update.title or "a tool", update.output))  # fmt: skip
        elif kind == "tool_call_update":
            self._tool_update(update, at)
        elif kind == API_RETRY:
            retry = update.retry
            self._add(RETRY, at, status=str(retry.status or ""), text=_retry_words(retry))
        elif kind == "plan":
            self._add(PLAN, at, text="; ".join(update.plan))

    def _say(self, text: str, at: float) -> None:
        if not text:
            return
        answer = self.answer
        if answer is None or len(answer.text) >= TEXT_MAX:
            self._flush()
            self.answer = answer = self._add(MESSAGE, at, text="")
        room = TEXT_MAX - len(answer.text)
        self.answer = replace(answer, text=answer.text + text[:room], at=at)
        self.grown = True
        if len(text) > room:
            self._say(text[room:], at)

    def _tool_update(self, update: Update, at: float) -> None:
        call = update.tool_call_id
        found = (
            queries.by_call(self.conn, self.agent, TOOL, call)
            if call
            else queries.last_open_tool(self.conn, self.agent)
        )
        if found is None:
            self._add(TOOL, at, call=call or None, status=update.status or None,
                      text=_with_output(update.title or "a tool", update.output))  # fmt: skip
            return
        self._flush()
        line = found
        title = _with_output(update.title, update.output) if update.title else line.text
        if update.output and not update.title:  # its output, after the call's own words
            title = _with_output(line.text.split(OUTPUT_MARK, 1)[0], update.output)
        queries.update(self.conn, line.id, self._next(), at, update.status or line.status,
                       _cut(title))  # fmt: skip

    def _asked(self, asked: PermissionAsked, at: float) -> None:
        """A permission request's row, before the outcome of the tool call it gates: when
        that call's row is written and still open, the request takes its place and the call
        goes on in a new row after it (a page that shows the row by id rewrites it)."""
        request, title = asked.request, asked.title or "a tool"
        call = _gated_call(asked)
        found = queries.by_call(self.conn, self.agent, TOOL, call) if call else None
        if found is None or found.status in FINAL:
            self._add(PERMISSION, at, call=request, text=title)
            return
        self._flush()
        self.answer = None
        tool = found
        queries.rewrite(self.conn, tool.id, self._next(), at, PERMISSION, request, None,
                        _cut(title))  # fmt: skip
        values = (self.agent, self._next(), tool.task_id, tool.delivery_id, tool.at, TOOL,
                  tool.call, tool.status, tool.text)  # fmt: skip
        queries.insert(self.conn, values)

    def _decider(self, request: str) -> str | None:
        """Who chose the answer to ``request`` in swarm (None: nobody in swarm did)."""
        found = by_session(self.conn, self.agent, Signal.PROTOCOL, request) if request else None
        return found.decided_by if found is not None else None

    def _change(self, kind: str, call: str, at: float, status: str) -> None:
        found = queries.by_call(self.conn, self.agent, kind, call) if call else None
        if found is None:
            return
        self._flush()
        queries.update(self.conn, found.id, self._next(), at, status, found.text)

    def _add(
        self, kind: str, at: float, *, text: str = "", call: str | None = None,
        status: str | None = None,
    ) -> Line:  # fmt: skip
        self._flush()
        if kind != MESSAGE:
            self.answer = None
        rev, task = self._next(), self._task()
        values = (self.agent, rev, task, self.delivery, at, kind, call, status, _cut(text))
        row_id = queries.insert(self.conn, values)
        return Line(row_id, self.agent, rev, task, self.delivery, at, kind, call, status,
                    _cut(text))  # fmt: skip

    def _flush(self) -> None:
        """Write the open answer's new words (once per batch and row)."""
        answer = self.answer
        if answer is None or not self.grown:
            return
        self.grown = False
        queries.update(self.conn, answer.id, self._next(), answer.at, None, answer.text)

    def _delivery(self, delivery: int | None) -> None:
        """A turn's delivery: its rows belong to the task its message is for (None: none
        named, the rows stay where they were)."""
        if delivery is None or (delivery == self.delivery and self.task is not None):
            return
        self.delivery = delivery
        known, task = self.task_of(self.conn, delivery)
        self.task = task if known else task_in_hand(self.conn, self.agent)

    def _task(self) -> int | None:
        if self.task is None and self.delivery is None and not self.looked:
            self.task, self.looked = task_in_hand(self.conn, self.agent), True
        return self.task

    def _next(self) -> int:
        self.rev += 1
        return self.rev - 1


def _answer(done: PermissionDone, decider: str | None = None) -> str:
    """A permission request's answer in words: ``allowed (Yes, allow once) by cli:ann``,
    ``denied (No)``, ``cancelled`` (the option's own label, its id where the host gave none;
    who chose it where a person or rule in swarm did)."""
    if done.option is None:
        return "cancelled"
    if answers_of(done.option) is not None:  # its questions, answered in swarm's question item
        return "answered with the person's answers"
    kind = done.kind
    verb = "allowed" if kind.startswith("allow") else "denied" if kind.startswith("reject") else ""
    label = shorten(flat(done.name or done.option), 80)
    said = f"{verb} ({label})" if verb else f"answered {label}"
    return said + (f" by {shorten(flat(decider), 80)}" if decider else "")


def _gated_call(asked: PermissionAsked) -> str:
    """The id of the tool call a permission request gates, where its entry names it (ACP's
    ``toolCall.toolCallId``); empty when it names none."""
    call = asked.tool.get("toolCallId")
    return call[:TEXT_MAX] if isinstance(call, str) else ""


def _cut(text: str) -> str:
    return text[:TEXT_MAX]


OUTPUT_LINES, OUTPUT_CHARS = 3, 240  # that head: its first non-empty lines, at most


def _with_output(title: str, output: str) -> str:
    """A tool call's words and the head of its output (its first ``OUTPUT_LINES`` non-empty
    lines, one line, ``OUTPUT_CHARS`` at most), or its words alone when it printed nothing."""
    lines = [line.strip() for line in output.splitlines() if line.strip()][:OUTPUT_LINES]
    if not lines:
        return title
    return f"{title}{OUTPUT_MARK}{shorten(' ⏎ '.join(lines), OUTPUT_CHARS)}"


def _retry_words(retry: ApiRetry) -> str:
    """``attempt 2 of 10 in 1.2 s (rate_limit)``: an API call the agent retries."""
    attempt = "?" if retry.attempt is None else retry.attempt
    most = "?" if retry.max_retries is None else retry.max_retries
    words = f"attempt {attempt} of {most}"
    if retry.delay_ms is not None:
        words += f" in {retry.delay_ms / 1000:g} s"
    return words + (f" ({retry.error})" if retry.error else "")
