"""A host journal's entries and socket requests read once, typed (``core.hosts.entries``,
``core.hosts.requests``): what the host writes reads back as it was written, an old journal's
line of each kind reads typed and is written again byte for byte, and an entry or a request
of any shape (an old host's, an agent's words in it) reads without raising, its bad fields as
absent (a bad request: one line why)."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import pytest

from automation.protocol.journal import Journal
from core.hosts import entries, requests, wire
from core.hosts.entries import (
    AgentError,
    Answer,
    ApiRetry,
    Cut,
    Exited,
    HostError,
    PermissionAsked,
    PermissionDone,
    Ready,
    Refused,
    RequestOption,
    Session,
    Turn,
    TurnEnd,
    TurnError,
    Update,
)


def test_a_permission_request_reads_back_as_the_host_wrote_it() -> None:
    asked = PermissionAsked(
        request="s-1#3", title="Bash: rm -rf build", kind="execute",
        tool={"rawInput": {"command": "rm -rf build"}},
        options=(RequestOption(id="allow", name="Allow", kind="allow_once"),
                 RequestOption(id="no", name="No", kind="reject_once")),
        delivery=12,
    )  # fmt: skip
    read = entries.read(entries.line(entries.of(asked, 9, 1700000000.5)))
    assert (read.seq, read.at, read.type, read.body) == (9, 1700000000.5, wire.PERMISSION, asked)
    assert isinstance(read.body, PermissionAsked)
    assert read.body.tool_input == {"command": "rm -rf build"}
    done = PermissionDone(request="s-1#3", option="allow", name="Allow", kind="allow_once")
    assert entries.read(entries.line(entries.of(done, 10))).body == done


def test_an_entry_of_any_shape_reads_and_its_bad_fields_are_absent() -> None:
    raw = {
        "seq": "7", "at": math.nan, "type": "permission", "request": ["not", "text"],
        "tool": "not an object", "delivery": math.inf, "unread": True,
        "options": [
            {"id": "ok", "name": "Allow", "kind": "allow_once"}, "no object", {"name": "no id"},
            {"id": {"an": "object"}}, {"id": "x" * (entries.OPTION_ID_MAX + 1)}, {"id": 3},
        ],
    }  # fmt: skip
    read = entries.read(raw)
    assert (read.seq, read.at) == (7, 0.0)
    assert isinstance(read.body, PermissionAsked)
    asked = read.body
    assert (asked.request, asked.tool, asked.delivery, asked.unread) == ("", {}, None, None)
    assert [(o.id, o.name, o.kind) for o in asked.options] == [
        ("ok", "Allow", "allow_once"), ("3", "3", "")]  # fmt: skip
    other = entries.read({"type": {"a": 1}, "seq": None, "words": "kept"})
    assert (other.type, other.seq, other.body) == ("", 0, None)


def test_an_answer_reads_as_it_was_sent() -> None:
    for sent in (Answer(request="s-1#3", option="allow"), Answer(request="s-1#4", option=None)):
        assert requests.parse(requests.line(sent)) == sent
    said = requests.parse({"op": "answer", "request": 5, "option": ["x"]})
    assert said == Answer(request="5", option="")


# A line of each kind as hosts have written them to their journals (an old journal is read
# again at swarm's start): ``{HOST}`` is the writing host's pid.
OLD_JOURNAL = Path(__file__).with_name("old_journal.jsonl")
CUT_LINE = (
    '{"seq":17,"at":1700000004.5,"type":"permission","request":"s-2#7","delivery":12,'
    '"title":"Edit big.txt","kind":"edit","options":[],"cut":{"bytes":17000123,'
    '"dropped":["tool"]}}'
)


def old_lines() -> list[bytes]:
    text = OLD_JOURNAL.read_text(encoding="utf-8").replace("{HOST}", str(os.getpid()))
    return [line.encode() + b"\n" for line in text.splitlines()]


async def test_an_old_journals_lines_read_typed_and_are_written_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each kind's line as an older host wrote it reads into its typed body, and the host
    writing that body now (``Journal.add``) writes the same bytes."""
    read = [entries.read(wire.decode(line)) for line in old_lines()]
    assert [type(e.body).__name__ for e in read] == [
        "Session", "Ready", "Turn", "Update", "Update", "Update", "Update", "PermissionAsked",
        "PermissionDone", "TurnEnd", "TurnError", "TurnError", "AgentError", "Refused",
        "HostError", "Exited",
    ]  # fmt: skip
    journal = Journal(tmp_path / "journal.jsonl")
    for entry in read:
        assert entry.body is not None
        monkeypatch.setattr(time, "time", lambda at=entry.at: at)
        journal.add(entry.body)
    await journal.close()
    assert journal.path.read_bytes().splitlines(keepends=True) == old_lines()


def test_an_old_journals_lines_say_what_swarm_reads() -> None:
    by_seq = {e.seq: e.body for e in map(entries.read, map(wire.decode, old_lines()))}
    assert by_seq[1] == Session(session="s-2", loaded=False, lost="s-1")
    assert by_seq[2] == Ready(session="s-2", pid=4242, lost="s-1")
    assert by_seq[3] == Turn(delivery=12, text="Fix it", chars=6)
    call = by_seq[4]
    assert isinstance(call, Update) and not call.outside
    assert (call.kind, call.title, call.status, call.tool_call_id) == (
        "tool_call", "Bash: ls", "pending", "call-1")  # fmt: skip
    assert isinstance(by_seq[5], Update) and by_seq[5].outside and by_seq[5].text == "before"
    retry = by_seq[6]
    assert isinstance(retry, Update)
    assert retry.retry == ApiRetry(429, "rate_limit", 2, 10, 1200.0, counted=True)
    assert isinstance(by_seq[7], Update) and by_seq[7].plan == ("read", "fix")
    end = by_seq[10]
    assert isinstance(end, TurnEnd)
    assert (end.delivery, end.stop_reason, end.model, end.total_cost) == (
        12,
        "end_turn",
        "m-1",
        0.25,
    )
    assert end.session_usage == {"inputTokens": 30, "outputTokens": 9}
    failed = by_seq[11]
    assert isinstance(failed, TurnError) and failed.said == "exceeded retry limit, last status: 429"
    assert by_seq[12] == TurnError(delivery=14, message="ConnectionResetError()", has_data=False)
    assert by_seq[13] == AgentError(message="the agent wrote a line that is not JSON: 'x'", lines=3)
    assert by_seq[14] == Refused(
        op="answer", pid=999, why="pid 999 is a process of the agent this host runs", times=2
    )
    assert by_seq[15] == HostError(message="the agent did not start: FileNotFoundError()")
    assert by_seq[16] == Exited(code=1)


def test_a_cut_entry_reads_with_what_was_cut() -> None:
    read = entries.read(wire.decode(CUT_LINE.encode()))
    assert read.cut == Cut(bytes=17000123, dropped=("tool",))
    assert isinstance(read.body, PermissionAsked) and read.body.title == "Edit big.txt"
    assert entries.read({"type": "exited", "cut": "nonsense"}).cut is None


HOSTILE = [None, True, -1, 10**5000, 1e308, -math.inf, math.nan, "", "x" * 100_000, [1, [2]],
           {"a": {"b": None}}]  # fmt: skip
FIELDS = ["session", "pid", "lost", "loaded", "delivery", "chars", "text", "kind", "title",
          "status", "tool_call_id", "plan", "attempt", "max_retries", "retry_delay_ms",
          "error_status", "error", "stop_reason", "usage", "cost_usd", "meta", "session_usage",
          "code", "message", "data", "lines", "op", "why", "times", "gone", "cut", "outside",
          "request", "option", "name", "tool", "options", "unread"]  # fmt: skip


@pytest.mark.parametrize("kind", [*sorted(k.TYPE for k in entries.KINDS), "no-such-kind"])
def test_an_entry_of_each_kind_reads_whatever_its_fields_hold(kind: str) -> None:
    for value in HOSTILE:
        read = entries.read({"type": kind, "seq": value, "at": value,
                             **dict.fromkeys(FIELDS, value)})  # fmt: skip
        body = read.body
        if isinstance(body, Update):
            assert (body.text, body.title, body.status, body.tool_call_id) is not None
            assert body.plan is not None and body.retry is not None
        elif isinstance(body, TurnEnd):
            assert (body.model, body.total_cost) is not None
        elif isinstance(body, TurnError):
            assert isinstance(body.said, str)
        if body is not None and value != 10**5000:  # (no JSON line holds that)
            wire.encode(entries.line(read))  # read, it is written again


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ({"op": "hello"}, requests.Hello()),
        ({"op": "prompt", "delivery": 7, "text": "go"}, requests.Prompt(delivery=7, text="go")),
        ({"op": "answer", "request": "s#1", "option": None}, Answer(request="s#1", option=None)),
        ({"op": "cancel"}, requests.Cancel()),
        ({"op": "new_session"}, requests.NewSession()),
        ({"op": "events", "after": 5}, requests.Events(after=5)),
        ({"op": "events"}, requests.Events(after=0)),
        ({"op": "ack", "seq": 9}, requests.Ack(seq=9)),
        ({"op": "stop"}, requests.Stop()),
    ],
)
def test_a_socket_request_reads_as_it_was_sent(raw: dict[str, Any], parsed: Any) -> None:
    assert requests.parse(raw) == parsed


@pytest.mark.parametrize(
    "raw",
    [
        {"op": "prompt", "delivery": "x", "text": "go"},
        {"op": "prompt", "delivery": 7, "text": ["go"]},
        {"op": "prompt"},
        {"op": "events", "after": [1]},
        {"op": "ack", "seq": None},
        {"op": "ack", "seq": 10**5000},
        {"op": {"a": 1}},
        {"op": "x" * 10_000},
        {},
    ],
)
def test_a_socket_request_of_a_bad_shape_is_one_line_why(raw: dict[str, Any]) -> None:
    why = requests.parse(raw)
    assert isinstance(why, str) and "\n" not in why and len(why) < 200, why
