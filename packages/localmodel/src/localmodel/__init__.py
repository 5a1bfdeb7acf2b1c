"""A local, scripted model server for testing agent CLIs and model clients.

It speaks Anthropic Messages, OpenAI Responses and Chat Completions, and Gemini's
generateContent, streaming or not, and answers from a :class:`Script`: per prompt, text, a
shell command or a tool call through the tools the request offers, slow or stalled streams,
rate limits and failures. Every request is recorded::

    script = Script((Turn("say hi", (Step(text="hi"),)),))
    async with LocalModel(script) as model:
        # ANTHROPIC_BASE_URL=model.url, OPENAI_BASE_URL=model.openai_url ...
        model.queue(Step.fail(529))  # the next request gets an overloaded error
        print(model.requests)
"""

from __future__ import annotations

from localmodel.client import AdminClient
from localmodel.player import Outcome, ToolCall
from localmodel.recording import RecordedRequest
from localmodel.script import (
    Script,
    ScriptError,
    Step,
    Turn,
    load_script,
    parse_script,
    parse_script_text,
    parse_step,
)
from localmodel.server import LocalModel
from localmodel.view import View

__all__ = [
    "AdminClient",
    "LocalModel",
    "Outcome",
    "RecordedRequest",
    "Script",
    "ScriptError",
    "Step",
    "ToolCall",
    "Turn",
    "View",
    "load_script",
    "parse_script",
    "parse_script_text",
    "parse_step",
]
