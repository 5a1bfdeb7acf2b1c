"""Streaming through the gateway is not buffered: the agent gets the first event of a slow
stream long before localmodel has sent the last."""

from __future__ import annotations

import time

import pytest
from localmodel import Step

from tests.gateway.rig import Rig
from tests.gateway.wire import FORMATS, VENDOR_OF, request

PIECES, DELAY = 4, 0.25  # localmodel sends the text in 4 pieces, 0.25 s apart


@pytest.mark.parametrize("fmt", FORMATS)
async def test_the_first_event_arrives_before_the_stream_ends(rig: Rig, fmt: str) -> None:
    rig.model.queue(Step(text="abcd" * PIECES, chunk_chars=4, chunk_delay=DELAY))
    path, body, headers = request(fmt, "slowly", stream=True)
    sent = time.monotonic()
    first: float | None = None
    got = b""
    async with rig.client(VENDOR_OF[fmt]).post(path, json=body, headers=headers) as answer:
        assert answer.status == 200
        async for chunk in answer.content.iter_any():
            got += chunk
            if first is None and b"abcd" in got:
                first = time.monotonic()
    ended = time.monotonic()
    assert first is not None and got.count(b"abcd") >= PIECES
    assert first - sent < DELAY, "the first piece came at once"
    assert ended - first > (PIECES - 2) * DELAY, "the rest came as localmodel sent it"
