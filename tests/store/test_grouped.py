"""Writes that come while one is in flight go together in the next transaction (a group
commit: a node's first wave of prompts, one turn record each, had queued one transaction
each on the node's one write connection)."""

from __future__ import annotations

import asyncio

import pytest

from core.store.grouped import Grouped


class Writer:
    """A store's writes: each call's items; the first held until ``release`` (in flight)."""

    def __init__(self, bad: int | None = None) -> None:
        self.calls: list[list[int]] = []
        self.release = asyncio.Event()
        self.bad = bad

    async def write(self, items: list[int]) -> None:
        self.calls.append(list(items))
        if len(self.calls) == 1:
            await self.release.wait()
        if self.bad in items:
            raise ValueError(f"item {self.bad} refused")


async def test_what_comes_while_a_write_is_in_flight_goes_in_one_next_write() -> None:
    writer = Writer()
    grouped: Grouped[int] = Grouped(writer.write)
    first = asyncio.create_task(grouped.add(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(grouped.add(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0.01)
    assert writer.calls == [[1]]  # the first at once, the others wait for it
    writer.release.set()
    await asyncio.gather(first, *rest)
    assert writer.calls == [[1], [2, 3, 4]]
    await grouped.add(5)  # nothing in flight: at once, alone
    assert writer.calls[-1] == [5]


async def test_a_group_that_fails_is_written_item_by_item_and_one_bad_item_fails_alone() -> None:
    writer = Writer(bad=3)
    grouped: Grouped[int] = Grouped(writer.write)
    first = asyncio.create_task(grouped.add(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(grouped.add(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    writer.release.set()
    await first
    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    assert [type(o).__name__ for o in outcomes] == ["NoneType", "ValueError", "NoneType"]
    assert writer.calls == [[1], [2, 3, 4], [2], [3], [4]]


async def test_a_cancelled_caller_leaves_the_others_written() -> None:
    writer = Writer()
    grouped: Grouped[int] = Grouped(writer.write)
    first = asyncio.create_task(grouped.add(1))
    await asyncio.sleep(0)
    second = asyncio.create_task(grouped.add(2))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    writer.release.set()
    await second
    assert writer.calls == [[1], [2]]
