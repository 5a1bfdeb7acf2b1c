"""Streaming through the gateway is not buffered: the agent gets the first event of a stream
while localmodel still holds the rest of it."""

from __future__ import annotations

import asyncio

import pytest
from localmodel import Step

from tests.gateway.rig import Rig
from tests.gateway.wire import FORMATS, VENDOR_OF, request

PIECES = 4  # localmodel sends the text in 4 pieces, and holds all after the first


@pytest.mark.parametrize("fmt", FORMATS)
async def test_the_first_event_arrives_before_the_stream_ends(rig: Rig, fmt: str) -> None:
    rig.model.queue(Step(text="abcd" * PIECES, chunk_chars=4, stall_after=1))
    path, body, headers = request(fmt, "slowly", stream=True)
    got = b""
    async with rig.client(VENDOR_OF[fmt]).post(path, json=body, headers=headers) as answer:
        assert answer.status == 200
        chunks = answer.content.iter_any()
        while b"abcd" not in got:  # buffered, it would come only after the release: never
            got += await asyncio.wait_for(anext(chunks), 30)
        assert got.count(b"abcd") == 1, "the rest came before localmodel sent it"
        assert rig.model.release() == 1  # the rest sent now
        async for chunk in chunks:
            got += chunk
    assert got.count(b"abcd") >= PIECES, "the rest came as localmodel sent it"
