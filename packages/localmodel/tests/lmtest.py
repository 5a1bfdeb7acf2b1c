"""Test helpers: a strict SSE parser, a JSON client, the tools real agent CLIs offer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict

SSE_FIELDS = {"event", "data", "id", "retry"}


@dataclass(frozen=True)
class SseEvent:
    """One server-sent event: its name (None if unnamed) and its data, parsed as JSON."""

    name: str | None
    data: Any


def parse_sse(raw: bytes) -> list[SseEvent]:
    """Parse a complete ``text/event-stream`` body strictly: UTF-8, LF line ends, known fields,
    every event ended by a blank line, every data line JSON (or ``[DONE]``)."""
    text = raw.decode("utf-8")
    assert "\r" not in text, "line ends are LF"
    assert text.endswith("\n\n"), "the stream ends with a blank line"
    events = []
    for block in text[:-2].split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            assert line and not line.startswith(":"), f"unexpected line {line!r}"
            name, sep, value = line.partition(":")
            assert sep and name in SSE_FIELDS, f"not an SSE field: {line!r}"
            fields.setdefault(name, []).append(value.removeprefix(" "))
        assert set(fields) <= {"event", "data"} and len(fields["data"]) == 1, block
        data = fields["data"][0]
        parsed = data if data == "[DONE]" else json.loads(data)
        events.append(SseEvent(fields.get("event", [None])[0], parsed))
    return events


@dataclass
class Reply:
    """A response: status, headers, raw body, parsed JSON (None if not JSON)."""

    status: int
    headers: CIMultiDict[str]
    raw: bytes

    @property
    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.raw)

    @property
    def events(self) -> list[SseEvent]:
        """The body as server-sent events."""
        assert self.headers["Content-Type"].startswith("text/event-stream")
        return parse_sse(self.raw)


async def post(
    session: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None
) -> Reply:
    """POST JSON; the whole answer."""
    async with session.post(url, json=body, headers=headers) as response:
        return Reply(response.status, CIMultiDict(response.headers), await response.read())


ANTHROPIC_HEADERS = {"x-api-key": "sk-ant-test-key", "anthropic-version": "2023-06-01"}

# The tools as the real clients declare them (names and input schemas, descriptions cut)
CLAUDE_TOOLS = [
    {
        "name": "Bash",
        "description": "Executes a given bash command",
        "input_schema": {
            "type": "object",
            "properties": {
                "command": {"type": "string"},
                "timeout": {"type": "number"},
                "description": {"type": "string"},
            },
            "required": ["command"],
        },
    },
    {
        "name": "Read",
        "description": "Reads a file",
        "input_schema": {
            "type": "object",
            "properties": {"file_path": {"type": "string"}},
            "required": ["file_path"],
        },
    },
    {
        "name": "mcp__swarm__report",
        "description": "Report progress to swarm",
        "input_schema": {
            "type": "object",
            "properties": {"status": {"type": "string"}, "note": {"type": "string"}},
            "required": ["status"],
        },
    },
]
CODEX_TOOLS = [
    {
        "type": "function",
        "name": "exec_command",
        "description": "Runs a command in a PTY",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "cmd": {"type": "string"},
                "workdir": {"type": "string"},
                "sandbox_permissions": {"type": "string"},
            },
            "required": ["cmd"],
        },
    },
    {
        "type": "function",
        "name": "mcp__swarm__report",
        "parameters": {"type": "object", "properties": {"status": {"type": "string"}}},
    },
]
OPENCODE_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "bash",
            "description": "Executes a bash command",
            "parameters": {
                "type": "object",
                "properties": {
                    "command": {"type": "string"},
                    "timeout": {"type": "number"},
                    "description": {"type": "string"},
                },
                "required": ["command", "description"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "swarm_report",
            "parameters": {"type": "object", "properties": {"status": {"type": "string"}}},
        },
    },
]
GEMINI_TOOLS = [
    {
        "functionDeclarations": [
            {
                "name": "run_shell_command",
                "description": "Executes a shell command",
                "parametersJsonSchema": {
                    "type": "object",
                    "properties": {
                        "command": {"type": "string"},
                        "description": {"type": "string"},
                    },
                    "required": ["command"],
                },
            },
            {
                "name": "report",
                "parametersJsonSchema": {
                    "type": "object",
                    "properties": {"status": {"type": "string"}},
                },
            },
        ]
    }
]
