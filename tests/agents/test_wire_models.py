"""The host wire's models (``core.hosts.entries``, ``requests``, ``replies``), by property:
what either side writes reads back as it was (both directions by one ``TypeAdapter``), and a
line of any shape an agent or a host gone wrong could put there reads without raising: an
entry as an ``Entry`` (its bad fields absent), a request as a request or one line why, a reply
as a reply or a ``Failed``. The wire declares each message once: no hand-written
``read``/``fields`` pair is left in ``core.hosts``, and no untyped reply crosses the socket
(each checked, and shown to fail on one planted)."""

from __future__ import annotations

import ast
import inspect
import json
import math
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.hosts import client, entries, replies, requests, wire
from core.hosts.entries import (
    AgentError,
    Cut,
    Entry,
    Exited,
    HostError,
    PermissionAsked,
    PermissionDone,
    ReaderFailed,
    Ready,
    Refused,
    RequestOption,
    Session,
    Turn,
    TurnEnd,
    TurnError,
    Unreachable,
    Update,
)
from core.hosts.model import LINE

HOSTS = Path(entries.__file__).parent

# JSON as ``json.loads`` gives it: what a line of the journal or the socket can hold
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = sorted({"seq", "at", "type", "host", "cut", "unread", "op", "ok", "reason", *(
    name for kind in (*entries.KINDS, *requests.Request.__args__, replies.HostHello,
                      replies.Failed, replies.Taken, replies.Cancelled, replies.Opened)
    for name in kind.model_fields
)})  # fmt: skip
TYPES = [kind.TYPE for kind in entries.KINDS]
OPS = [kind.model_fields["op"].default for kind in requests.Request.__args__]
lines = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), values, max_size=12)


def _with(tag: str, choices: list[str]) -> Any:
    """Objects whose ``tag`` is one of ``choices`` (or anything), other fields anything."""
    return st.builds(lambda line, said: {**line, tag: said}, lines,
                     st.sampled_from(choices) | values)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(_with("type", TYPES))
@example({"type": "update", "acked": [math.inf]})  # (a union's adapter wrote it null once)
def test_an_entry_of_any_shape_reads_and_is_written_again(raw: dict[str, Any]) -> None:
    if raw.get("type") in TYPES:  # its body read with no net under it: total
        entries.BODY.validate_python(raw, context=LINE)
    read = entries.read(raw)
    assert isinstance(read, Entry) and isinstance(read.seq, int) and isinstance(read.at, float)
    if read.type not in TYPES:
        assert read.body is None
    written = entries.line(read)
    json.dumps(written)  # a line again
    assert entries.read(written) == read  # and reads the same: nothing more was made up


@settings(max_examples=150, deadline=None)
@given(_with("op", OPS))
def test_a_request_of_any_shape_reads_or_says_why_in_one_line(raw: dict[str, Any]) -> None:
    found = requests.parse(raw)
    if isinstance(found, str):
        assert found and "\n" not in found and len(found) <= 200, found
    else:
        assert requests.parse(requests.line(found)) == found


@settings(max_examples=150, deadline=None)
@given(st.builds(lambda line, ok: {**line, "ok": ok}, lines, st.booleans() | values))
def test_a_reply_of_any_shape_reads_as_a_reply(raw: dict[str, Any]) -> None:
    for kind in (replies.Done, replies.HostHello, replies.Taken, replies.Cancelled,
                 replies.Opened):  # fmt: skip
        said = replies.reply(kind).validate_python(raw)  # (no net under it: total)
        assert replies.read(kind, raw) == said
        assert isinstance(said, kind) == (raw["ok"] is True)
        assert replies.read(kind, said.model_dump(mode="json")) == said
    assert isinstance(replies.read(replies.HostHello, ["not", "an", "object"]), replies.Failed)


BODIES = [
    Ready(session="s-1", pid=42, lost="s-0"),
    Ready(session=None),
    Session(session="s-1", loaded=True),
    Turn(delivery=3, chars=2, text="go"),
    Update(session="s-1", kind="plan", words={"plan": ["a", "b"], "text": "x"}, outside=True),
    Update(kind="agent_message_chunk"),
    PermissionAsked(
        request="s-1#1",
        delivery=3,
        title="rm x",
        kind="execute",
        tool={"rawInput": {"command": "rm x"}},
        options=(RequestOption(id="ok", name="Allow", kind="allow_once"),),
    ),
    PermissionDone(request="s-1#1", option="ok", name="Allow", kind="allow_once"),
    PermissionDone(request="s-1#1"),
    TurnEnd(
        delivery=3,
        stop_reason="end_turn",
        usage={"in": 1},
        cost_usd=0.5,
        meta={"model": "m"},
        session_usage={"in": 9},
    ),
    TurnError(delivery=3, code=-1, message="no", data={"message": "why"}),
    TurnError(delivery=3, message="broke", has_data=False),
    Exited(code=1),
    HostError(message="no agent"),
    AgentError(message="bad line", lines=3),
    Refused(op="answer", pid=9, why="its own", times=2),
    Unreachable(message="gone", gone=True),
    ReaderFailed(message="failed"),
]


@pytest.mark.parametrize("body", BODIES, ids=lambda body: type(body).__name__)
def test_each_body_reads_back_as_it_was_written(body: entries.Body) -> None:
    entry = entries.of(body, seq=7, at=1.5, host=4242)
    line = wire.decode(wire.encode(entries.line(entry)))
    assert list(line)[:3] == ["seq", "at", "type"] and line["host"] == 4242
    assert entries.read(line) == entry


def test_a_cut_entry_reads_back_with_what_was_cut() -> None:
    cut = Cut(bytes=17_000_123, dropped=("tool",))
    entry = entries.Entry(seq=3, at=1.0, type=wire.EXITED, body=Exited(code=0), cut=cut)
    assert entries.read(wire.decode(wire.encode(entries.line(entry)))) == entry


def test_a_body_made_in_code_takes_no_words_from_a_line_it_was_not() -> None:
    """An update's words and a turn error's missing data are read apart only from a line:
    one made in code keeps what it was given."""
    made = Update(kind="plan", words={"type": "not mine"})
    assert made.words == {"type": "not mine"}
    assert TurnError(delivery=1, message="m").has_data


@pytest.mark.parametrize("value", [math.nan, math.inf, 10**30, "9" * 40, [1], {"a": 1}, True])
def test_a_reply_field_of_a_hostile_value_reads_as_absent(value: Any) -> None:
    said = replies.read(replies.HostHello, {"ok": True, "pid": value, "seq": value,
                                             "busy": value, "session": value})  # fmt: skip
    assert isinstance(said, replies.HostHello)
    assert said.pid is None or isinstance(said.pid, int)
    assert isinstance(said.seq, int) and isinstance(said.busy, bool)


def hand_written_pairs(folder: Path) -> list[str]:
    """The classes of ``folder``'s modules that read and write themselves by hand (a
    ``read`` classmethod or a ``fields`` method): each should be a model of the wire."""
    found = []
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
                if names & {"read", "fields"}:
                    found.append(f"{path.name}:{node.name}")
    return found


def test_no_message_of_the_wire_is_read_or_written_by_hand(tmp_path: Path) -> None:
    assert hand_written_pairs(HOSTS) == []
    planted = tmp_path / "hosts"
    planted.mkdir()
    (planted / "bodies.py").write_text(
        "class Exited:\n    def fields(self): ...\n    @classmethod\n    def read(cls, raw): ...\n"
    )
    assert hand_written_pairs(planted) == ["bodies.py:Exited"]  # the check sees one


def untyped_replies(module: Any) -> list[str]:
    """The public functions of ``module`` (a side of the host socket) whose answer is an
    untyped object (a ``dict`` or ``Any`` in its return annotation)."""
    found = []
    for name, value in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(value):
            continue
        said = str(inspect.signature(value).return_annotation)
        if value.__module__ == module.__name__ and ("dict" in said or "Any" in said):
            found.append(name)
    return found


def test_no_untyped_reply_crosses_the_host_socket() -> None:
    """Swarm's side of the socket answers typed replies and entries, and so do the host's
    answers to each request."""
    from automation.protocol import host, server

    assert untyped_replies(client) == []
    assert untyped_replies(server) == []
    answers: list[Callable[..., Any]] = [
        host.Host.hello, host.Host.prompt, host.Host.answer, host.Host.cancel,
        host.Host.new_session,
    ]  # fmt: skip
    said = [str(inspect.signature(answer).return_annotation) for answer in answers]
    assert [words for words in said if "dict" in words or "Any" in words] == []
    planted = types.ModuleType("planted")
    exec("from typing import Any\nasync def hello() -> dict[str, Any]: ...", planted.__dict__)
    assert untyped_replies(planted) == ["hello"]  # the check sees one


def test_an_updates_words_never_stand_for_its_entrys_own_fields() -> None:
    """Words named as the entry's own fields (its number, type, host, what was cut) are
    never written over them: the line reads back as the same entry's."""
    said = Update(kind="x", words={"seq": 99, "type": "exited", "host": 1, "cut": {"bytes": 1}})
    line = entries.line(entries.of(said, seq=3, at=1.0))
    assert (line["seq"], line["type"], "host" in line, "cut" in line) == (3, "update", False, False)
    assert isinstance(entries.read(line).body, Update)
