"""A host journal's entries read once, typed (``core.hosts.entries``): what the host writes
reads back as it was written, and an entry of any shape (an old host's, an agent's words in
it) reads without raising, its bad fields as absent."""

from __future__ import annotations

import math

from core.hosts import entries, wire
from core.hosts.entries import Answer, PermissionAsked, PermissionDone, RequestOption


def test_a_permission_request_reads_back_as_the_host_wrote_it() -> None:
    asked = PermissionAsked(
        "s-1#3", "Bash: rm -rf build", "execute", {"rawInput": {"command": "rm -rf build"}},
        (RequestOption("allow", "Allow", "allow_once"), RequestOption("no", "No", "reject_once")),
        delivery=12,
    )  # fmt: skip
    read = entries.read({"seq": 9, "at": 1700000000.5, "type": asked.TYPE, **asked.fields()})
    assert (read.seq, read.at, read.type, read.body) == (9, 1700000000.5, wire.PERMISSION, asked)
    assert isinstance(read.body, PermissionAsked)
    assert read.body.tool_input == {"command": "rm -rf build"}
    done = PermissionDone("s-1#3", "allow", "Allow", "allow_once")
    assert entries.read({"seq": 10, "type": done.TYPE, **done.fields()}).body == done


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
    assert (other.type, other.seq, other.body, other.raw["words"]) == ("", 0, None, "kept")


def test_an_answer_reads_as_it_was_sent() -> None:
    for sent in (Answer("s-1#3", "allow"), Answer("s-1#4", None)):
        assert Answer.read({"op": sent.OP, **sent.fields()}) == sent
    assert Answer.read({"op": "answer", "request": 5, "option": ["x"]}) == Answer("5", "")
