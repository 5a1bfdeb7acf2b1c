"""A decided prompt's typing is recorded once: begun before its key is sent (``typing_at``),
forgotten when the driver deferred it (nothing pressed: it may begin again), settled once,
after which nothing forgets it (real store, SQLite and PostgreSQL)."""

from __future__ import annotations

import functools

import pytest

from core.agent_state import Signal
from core.dialogs import answer_keys
from core.dialogs import permissions as prompts
from core.models import PromptOption
from core.service.swarm import SwarmService

pytestmark = pytest.mark.both_databases

OPTIONS = (PromptOption("1", "Yes"), PromptOption("2", "No"))


async def test_a_deferred_typing_is_forgotten_and_begins_again(service: SwarmService) -> None:
    store = service.store
    prompt = await store.write("A", prompts.open_prompt, "A", Signal.TEXT, "Edit x?", OPTIONS)
    await store.write("Ada", prompts.decide, prompt.id, "2")
    assert [p.id for p in await store.read(answer_keys.untyped)] == [prompt.id]
    assert await store.write("swarm", answer_keys.begin_typing, prompt.id, "2")
    assert not await store.write("swarm", answer_keys.begin_typing, prompt.id, "2")  # once
    begun, keys = await store.read(answer_keys.typing_state, prompt.id)
    assert begun is not None and keys == "2"
    await store.write("swarm", answer_keys.not_begun, prompt.id)  # the driver deferred it
    assert await store.read(answer_keys.typing_state, prompt.id) == (None, "")
    assert await store.write("swarm", answer_keys.begin_typing, prompt.id, "2")
    typed = functools.partial(answer_keys.mark_typed, typed=True)
    assert await store.write("swarm", typed, prompt.id, "2", "the prompt left the pane")
    await store.write("swarm", answer_keys.not_begun, prompt.id)  # settled: kept as it is
    assert (await store.read(answer_keys.typing_state, prompt.id))[0] is not None
    typed_at, keys, result = await store.read(answer_keys.typed_state, prompt.id)
    assert typed_at is not None and (keys, result) == ("2", "the prompt left the pane")
    assert await store.read(answer_keys.untyped) == []
