"""Fixtures: a started LocalModel with an empty script, an HTTP session, an OpenAI client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import openai
import pytest
from localmodel import LocalModel


@pytest.fixture
async def model() -> AsyncIterator[LocalModel]:
    """A started server (the script: a default answer only)."""
    async with LocalModel(models=("local", "other")) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp session for raw HTTP."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def oai(model: LocalModel) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official OpenAI client on the server, without retries."""
    client = openai.AsyncOpenAI(api_key="sk-test-key", base_url=model.openai_url, max_retries=0)
    yield client
    await client.close()
