"""A protocol agent's transcript (issue 50, item 4): the host's journal entries taken in by
``protocol_events.record`` are kept as ``agent_transcript`` rows in the same transaction, on
SQLite and PostgreSQL: the prompt, the answer's chunks joined (across batches), one row per
tool call with its status, plans, permission requests with their answer, the turn's end; a
journal read again adds nothing; each agent keeps its newest rows only."""

from __future__ import annotations

from typing import Any

import pytest

from core.agents import _transcriber as transcriber
from core.agents import _transcript as transcript
from core.agents._service import TranscriptBook
from core.hosts.entries import PermissionAsked, PermissionDone, RequestOption
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, journal, numbered, record, started
from tests.helpers import query

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


def shown(lines: list[transcript.Line]) -> list[tuple[str, str, str | None]]:
    return [(r.kind, r.text, r.status) for r in lines]


async def test_a_turn_is_kept_as_the_rows_people_read(service: SwarmService) -> None:
    task, delivery = await started(service)
    entries = journal(delivery)
    # in three batches, as the watcher takes them: the answer's chunks split between two
    assert await record(service, entries[:4]) == 4
    await record(service, entries[4:10])
    await record(service, entries[10:])
    rows = await TranscriptBook(service.store).of_task(task)
    assert shown(rows) == [
        ("prompt", "Create x then say done", None),
        ("message", "I will create x.", None),
        ("plan", "create x; say done", None),
        ("tool", "touch x", "completed"),
        ("permission", "touch x", "answered allow"),
        ("message", "Done.\x1b[2J", None),
        ("turn_end", "", "end_turn"),
    ]
    assert {r.delivery_id for r in rows} == {delivery}
    assert {r.task_id for r in rows} == {task}
    # what people read is one line each, the agent's controls escaped
    assert [transcript.status_line(r) for r in rows][3:6] == [
        "tool call touch x (completed)",
        "asks: touch x (answered allow)",
        "says: Done.\\x1b[2J",
    ]
    # the rows changed last come last: the tool call after its permission's answer
    revs = await TranscriptBook(service.store).after(AGENT, 0)
    assert [r.kind for r in revs] == [
        "prompt", "message", "plan", "permission", "tool", "message", "turn_end",
    ]  # fmt: skip
    assert len({r.rev for r in revs}) == len(revs)
    # the whole journal read again (a restart of the watcher) changes nothing
    before = query(service.settings, "SELECT id, rev, status, text FROM agent_transcript")
    await record(service, entries)
    assert query(service.settings, "SELECT id, rev, status, text FROM agent_transcript") == before


async def test_the_card_line_is_the_holders_newest_row_of_its_task(
    service: SwarmService,
) -> None:
    task, delivery = await started(service)
    entries = journal(delivery)
    await record(service, entries[:7])
    book = TranscriptBook(service.store)
    line = (await book.activity())[task]
    assert transcript.status_line(line) == "tool call touch x (pending)"
    await record(service, entries[7:10])
    assert transcript.status_line((await book.activity())[task]) == (
        "tool call touch x (in progress)"
    )
    await service.tasks.complete(task, AGENT)
    assert await book.activity() == {}  # done: no line


async def test_a_long_answer_goes_on_in_new_rows_and_an_agent_keeps_its_newest(
    service: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcriber, "KEEP", 5)
    _, delivery = await started(service)
    chunk: dict[str, Any] = {"type": "update", "kind": "agent_message_chunk", "text": "y" * 3000}
    entries = [{"type": "turn", "delivery": delivery, "text": "long"}, chunk, chunk, chunk]
    again: list[dict[str, Any]] = [{"type": "turn", "delivery": delivery, "text": "again"},
             {"type": "turn_end", "stop_reason": "end_turn"}] * 2  # fmt: skip
    taken = numbered(entries + again)
    book = TranscriptBook(service.store)
    await record(service, taken[:2])
    await record(service, taken[2:4])  # 9,000 characters: rows of 4,000, 4,000, 1,000
    assert [(r.kind, len(r.text)) for r in await book.newest(AGENT)] == [
        ("prompt", 4), ("message", 4000), ("message", 4000), ("message", 1000),
    ]  # fmt: skip
    await record(service, taken[4:])  # a turn's end: the newest 5 are kept
    assert [(r.kind, len(r.text)) for r in await book.newest(AGENT)] == [
        ("message", 1000), ("prompt", 5), ("turn_end", 0), ("prompt", 5), ("turn_end", 0),
    ]  # fmt: skip
    assert max(len(t) for (t,) in query(service.settings, "SELECT text FROM agent_transcript")) <= (
        transcript.TEXT_MAX
    )


async def test_a_tool_call_update_without_an_id_ends_the_open_call(service: SwarmService) -> None:
    """Claude Code's stream-json before it named its calls: the update goes to the open one."""
    task, delivery = await started(service)
    entries: list[dict[str, Any]] = [
        {"type": "turn", "delivery": delivery, "text": "go"},
        {"type": "update", "kind": "tool_call", "title": "Bash", "status": "pending"},
        {"type": "update", "kind": "tool_call_update", "status": "completed"},
        {"type": "turn_error", "delivery": delivery, "message": "rate limit <@everyone>"},
    ]
    await record(service, numbered(entries))
    rows = await TranscriptBook(service.store).of_task(task)
    assert shown(rows) == [
        ("prompt", "go", None),
        ("tool", "Bash", "completed"),
        ("turn_error", "rate limit <@everyone>", None),
    ]


async def test_a_whole_turn_in_one_batch_is_judged_working_then_idle(
    service: SwarmService,
) -> None:
    """A turn of milliseconds, its start and end taken in by one look: the agent was seen
    working, then idle since now (before: idle all along, since before its prompt; an
    account's probe over the protocol never passed)."""
    _, delivery = await started(service)
    await record(service, numbered([{"type": "session", "session": "s-1", "loaded": False}]))
    before = (await service.explain_agent(AGENT))["state"]
    turn: list[dict[str, Any]] = [
        {"type": "turn", "delivery": delivery, "chars": 5, "text": "hello"},
        {"type": "update", "kind": "agent_message_chunk", "text": "hi"},
        {"type": "turn_end", "delivery": delivery, "stop_reason": "end_turn"},
    ]
    await record(service, [{"seq": n, "at": 2000.0 + n, **e} for n, e in enumerate(turn, 2)])
    states = [e.text for e in await service.history.events(0, 10_000) if e.kind == "agent.state"]
    assert before == "idle" and states[-2:] == [
        f"{AGENT} is working (protocol: prompt taken (delivery {delivery}))",
        f"{AGENT} is idle (protocol: turn ended (end_turn))",
    ], states


async def test_a_prompt_keeps_its_lines_and_an_answer_says_what_was_chosen(
    service: SwarmService,
) -> None:
    """Issue 64, item 7: a prompt of several lines reads as lines on a page and as one line
    in a list (before: a literal ``\\x0a`` for each newline); a permission's answer names the
    option the person chose by its label and kind (before: its id, ``answered proceed_once``
    for Gemini CLI, and a denial read like any other answer)."""
    task, delivery = await started(service)
    entries = numbered([
        {"type": "turn", "delivery": delivery, "chars": 20, "text": "Fix it:\n- a\n- b"},
        {"type": "permission", "request": "s#1", "delivery": delivery, "title": "rm x",
         "kind": "execute", "options": [{"id": "proceed_once", "name": "Allow",
                                         "kind": "allow_once"}]},
        {"type": "permission_done", "request": "s#1", "option": "proceed_once",
         "name": "Allow", "kind": "allow_once"},
        {"type": "permission", "request": "s#2", "delivery": delivery, "title": "rm y",
         "kind": "execute", "options": [{"id": "cancel", "name": "Reject",
                                         "kind": "reject_once"}]},
        {"type": "permission_done", "request": "s#2", "option": "cancel", "name": "Reject",
         "kind": "reject_once"},
    ])  # fmt: skip
    await record(service, entries)
    rows = await TranscriptBook(service.store).of_task(task)
    prompt, allowed, denied = rows
    assert transcript.status_line(prompt) == "prompt taken: Fix it: - a - b"
    assert transcript.shown_text(prompt) == "prompt taken:\nFix it:\n- a\n- b"
    assert transcript.status_line(allowed) == "asks: rm x (allowed (Allow))"
    assert transcript.status_line(denied) == "asks: rm y (denied (Reject))"


def asked_turn(delivery: int) -> list[dict[str, Any]]:
    """A turn in which the agent asks to run a tool it announced, twice (allowed, denied), as
    the real host journals it: ACP's request names its announced call (``toolCallId``, the
    announced call's fields merged in: ``acp_driver``), its end the option's name and kind
    (``PermissionAsked``, ``PermissionDone`` as the host writes them)."""

    def call(n: int, status: str) -> dict[str, Any]:
        return {"type": "update", "kind": "tool_call_update", "tool_call_id": f"call-{n}",
                "status": status}  # fmt: skip

    def asked(n: int) -> dict[str, Any]:
        tool = {"toolCallId": f"call-{n}", "title": f"touch {n}", "kind": "execute",
                "status": "pending", "rawInput": {"command": f"touch {n}"}}  # fmt: skip
        options = (RequestOption(id="allow", name="Allow", kind="allow_once"),
                   RequestOption(id="reject", name="Reject", kind="reject_once"))  # fmt: skip
        said = PermissionAsked(request=f"s-1#{n}", title=f"touch {n}", kind="execute",
                               tool=tool, options=options, delivery=delivery)  # fmt: skip
        return {"type": said.TYPE, **said.model_dump()}

    def done(n: int, option: str, name: str, kind: str) -> dict[str, Any]:
        said = PermissionDone(request=f"s-1#{n}", option=option, name=name, kind=kind)
        return {"type": said.TYPE, **said.model_dump()}

    entries = [{"type": "turn", "delivery": delivery, "text": "touch 1 and 2"}]
    for n, answer in (
        (1, ("allow", "Allow", "allow_once")),
        (2, ("reject", "Reject", "reject_once")),
    ):
        entries += [
            {"type": "update", "kind": "tool_call", "title": f"touch {n}", "status": "pending",
             "tool_call_id": f"call-{n}", "tool_kind": "execute"},
            asked(n), done(n, *answer),
            call(n, "in_progress" if n == 1 else "failed"),
        ]  # fmt: skip
    entries[-4:-4] = [call(1, "completed")]
    entries.append({"type": "turn_end", "delivery": delivery, "stop_reason": "end_turn"})
    return numbered(entries)


async def test_a_permission_line_comes_before_the_outcome_of_the_call_it_gates(
    service: SwarmService,
) -> None:
    """Journaled: the call announced, the request, its answer, the call's outcome. Read: the
    request (and who answered it how) before the call, by id and by rev alike."""
    task, delivery = await started(service)
    entries = asked_turn(delivery)
    await record(service, entries[:3])  # the call announced, its request waiting
    ((prompt,),) = query(
        service.settings, "SELECT id FROM agent_prompts WHERE agent = $1", (AGENT,)
    )
    await service.inbox.decide_prompt(int(prompt), "allow", "cli:ann")
    await record(service, entries[3:])
    book = TranscriptBook(service.store)
    want = [
        ("prompt", "touch 1 and 2", None),
        ("permission", "touch 1", "allowed (Allow) by cli:ann"),
        ("tool", "touch 1", "completed"),
        ("permission", "touch 2", "denied (Reject)"),
        ("tool", "touch 2", "failed"),
        ("turn_end", "", "end_turn"),
    ]
    assert shown(await book.of_task(task)) == want
    assert shown(await book.newest(AGENT)) == want
    lines = [transcript.status_line(r) for r in await book.of_task(task)]
    assert lines[1:3] == [
        "asks: touch 1 (allowed (Allow) by cli:ann)",
        "tool call touch 1 (completed)",
    ]


async def test_a_tool_calls_row_shows_the_head_of_what_it_printed(service: SwarmService) -> None:
    """Issue 79, item 8: a tool call's row says what it printed (its first non-empty lines,
    one line, bounded), after its status; the agent's controls escaped; a call that printed
    nothing is its words alone."""
    task, delivery = await started(service)
    entries = journal(delivery)
    printed = "a.txt\n\nb.txt\x1b[2J\nc.txt\nd.txt\n" + "x" * 5000
    entries[10] = {**entries[10], "output": printed}  # its completed update
    await record(service, entries)
    (tool,) = [r for r in await TranscriptBook(service.store).of_task(task) if r.kind == "tool"]
    assert transcript.status_line(tool) == (
        "tool call touch x (completed) → a.txt ⏎ b.txt\\x1b[2J ⏎ c.txt"
    )
    quiet = journal(delivery)  # the same turn printing nothing: no mark
    await record(service, [{**e, "seq": e["seq"] + 100} for e in quiet[1:]])
    rows = [r for r in await TranscriptBook(service.store).newest(AGENT) if r.kind == "tool"]
    assert transcript.status_line(rows[-1]) == "tool call touch x (completed)"
