"""On PostgreSQL a write transaction's event rows go to the server with its COMMIT
(``core.store.postgres.store``): same rows, same order, same text, all or nothing, seen by the
transaction."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from core.context import Ctx
from core.errors import IntegrityError
from core.event_kinds import EventKind
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.store.tables import insert_event

HELD = cast(EventKind, "test.held")  # a kind no code writes: these rows are the test's own

pytestmark = [pytest.mark.both_databases]

AWKWARD = (
    "it's done'); DROP TABLE tasks; --",
    "100% %s %(x)s ?",
    "back\\slash \\x00",
    "line one\nline two\ttab",
    "ünïcödé ✓ 漢字",
    "$$ dollar $tag$ quoting $$",
    "",
)


def _write(conn: Conn, ctx: Ctx, texts: tuple[str, ...]) -> list[str]:
    """Events, a read of the events in the middle, more events."""
    half = len(texts) // 2
    for text in texts[:half]:
        insert_event(conn, ctx.now, HELD, text, actor=ctx.actor, data={"text": text})
    conn.flush_events()  # what a store function that reads events in a write does
    seen = [
        r["text"]
        for r in conn.execute("SELECT text FROM events WHERE kind = 'test.held' ORDER BY id")
    ]
    for text in texts[half:]:
        insert_event(conn, ctx.now, HELD, text, actor=ctx.actor, data={"text": text})
    return seen


def _held(conn: Conn) -> list[Any]:
    return [
        (r["text"], r["data"])
        for r in conn.execute("SELECT text, data FROM events WHERE kind = 'test.held' ORDER BY id")
    ]


async def test_events_keep_their_text_and_order_and_the_transaction_sees_its_own(
    service: SwarmService,
) -> None:
    seen = await service.store.write("test", _write, AWKWARD)
    assert seen == list(AWKWARD[: len(AWKWARD) // 2])
    rows = await service.store.read(_held)
    assert [text for text, _ in rows] == list(AWKWARD)
    assert [json.loads(data)["text"] for _, data in rows] == list(AWKWARD)
    assert (
        await service.store.read(
            lambda c: c.execute("SELECT count(*) AS n FROM tasks").fetchone()["n"]
        )
        == 0
    )  # the table the quoting test aims at is still there


def _events_then_fail(conn: Conn, ctx: Ctx) -> None:
    insert_event(conn, ctx.now, HELD, "kept?", actor=ctx.actor)
    conn.execute("UPDATE agent_state SET score = 0.5")
    raise RuntimeError("the change fails after its events")


def _bad_event(conn: Conn, ctx: Ctx) -> None:
    conn.execute("UPDATE agent_state SET score = 0.25")
    insert_event(conn, ctx.now, HELD, "fine", actor=ctx.actor)
    insert_event(conn, None, HELD, "no time", actor=ctx.actor)  # type: ignore[arg-type]


def _scores(conn: Conn) -> set[float]:
    return {r["score"] for r in conn.execute("SELECT score FROM agent_state")}


async def test_a_failed_transaction_leaves_no_event_and_no_change(service: SwarmService) -> None:
    with pytest.raises(RuntimeError):
        await service.store.write("test", _events_then_fail)
    with pytest.raises(IntegrityError):  # the NOT NULL ts fails, at the commit here
        await service.store.write("test", _bad_event)
    assert await service.store.read(_held) == []
    assert await service.store.read(_scores) == {1.0}
    await service.store.write("test", _write, ("after", "the failures"))  # the connection goes on
    assert [t for t, _ in await service.store.read(_held)] == ["after", "the failures"]
