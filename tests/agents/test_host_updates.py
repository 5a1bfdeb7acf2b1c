"""What the real host journals for each of the ACP SDK's session updates, and how its client
answers the agent's requests that swarm does not serve: ``hostile_acp`` writes them by hand,
the host (``automation.protocol.acp_driver``) reads them through the SDK.

An update of a class swarm reads no words from (commands, modes, config options, a plan's
content or its removal) is journaled all the same, by its kind."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from automation.protocol import launch
from core.hosts import client, wire
from core.hosts.entries import Answer
from core.hosts.replies import Done
from tests.agents.test_host_hostile import (
    AGENT,
    AGENT_SCRIPT,
    entries_until,
    said,
    turn,
)

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("hostile-host")]
TEXT = {"type": "text", "text": "hello"}
TOOL_CONTENT = [{"type": "content", "content": {"type": "text", "text": "out"}}]
PLAN = [{"content": "create x", "priority": "high", "status": "pending"},
        {"content": "say done", "priority": "low", "status": "completed"}]  # fmt: skip
# (the update as the agent writes it, the words the host journals with its kind)
UPDATES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"sessionUpdate": "user_message_chunk", "content": TEXT}, {"text": "hello"}),
    ({"sessionUpdate": "agent_message_chunk", "content": TEXT, "messageId": "m-1"},
     {"text": "hello"}),
    ({"sessionUpdate": "agent_thought_chunk", "content": TEXT}, {"text": "hello"}),
    ({"sessionUpdate": "agent_message_chunk",
      "content": {"type": "image", "data": "AAAA", "mimeType": "image/png"}}, {}),
    ({"sessionUpdate": "tool_call", "toolCallId": "call-1", "title": "touch x",
      "kind": "execute", "status": "pending", "content": TOOL_CONTENT,
      "rawInput": {"command": "touch x"}},
     {"title": "touch x", "status": "pending", "tool_call_id": "call-1", "tool_kind": "execute",
      "output": "out"}),  # its text content: the head of what it printed
    ({"sessionUpdate": "tool_call", "toolCallId": "call-2", "title": ""},
     {"title": "", "tool_call_id": "call-2"}),
    ({"sessionUpdate": "tool_call_update", "toolCallId": "call-1", "status": "completed",
      "content": TOOL_CONTENT, "rawOutput": {"code": 0}},
     {"status": "completed", "tool_call_id": "call-1", "output": "out"}),
    ({"sessionUpdate": "plan", "entries": PLAN}, {"plan": ["create x", "say done"]}),
    ({"sessionUpdate": "plan_update",
      "plan": {"type": "items", "planId": "p-1", "entries": PLAN}}, {}),
    ({"sessionUpdate": "plan_removed", "planId": "p-1"}, {}),
    ({"sessionUpdate": "available_commands_update",
      "availableCommands": [{"name": "init", "description": "Write AGENTS.md"}]}, {}),
    ({"sessionUpdate": "current_mode_update", "currentModeId": "plan"}, {}),
    ({"sessionUpdate": "config_option_update", "configOptions": [
        {"type": "boolean", "id": "yolo", "name": "YOLO", "currentValue": False}]}, {}),
    ({"sessionUpdate": "session_info_update", "title": "Fix x", "updatedAt": "2025-01-01"},
     {"title": "Fix x"}),
    ({"sessionUpdate": "usage_update", "used": 10, "size": 200,
      "cost": {"amount": 0.25, "currency": "USD"}},
     {"usage": {"used": 10, "size": 200, "cost": {"amount": 0.25, "currency": "USD"},
                "sessionUpdate": "usage_update"}}),
]  # fmt: skip
METHOD_NOT_FOUND = -32601
_deliveries = itertools.count(1000)  # a prompt's own (turn()'s count from 1)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A swarm home with the hostile agent's host running, as ``desktop up`` starts it."""
    root = tmp_path_factory.mktemp("updates")
    made = root / "home"
    made.mkdir()
    env = {**os.environ, "HOSTILE_SOCKET": str(wire.socket_path(made, AGENT))}
    with warnings.catch_warnings():  # the host outlives its Popen, as after desktop up
        warnings.simplefilter("ignore", ResourceWarning)
        asyncio.run(launch.start(made, AGENT, [sys.executable, str(AGENT_SCRIPT)], root, env,
                                 wait_s=30))  # fmt: skip
        gc.collect()
    try:
        yield made
    finally:
        asyncio.run(launch.stop(made, AGENT))


def raw_update(update: dict[str, Any]) -> str:
    params = {"sessionId": "hostile-1", "update": update}
    return "raw " + json.dumps({"jsonrpc": "2.0", "method": "session/update", "params": params})


async def test_each_update_is_journaled_by_its_kind_with_its_words(home: Path) -> None:
    entries = await turn(home, ";".join(raw_update(sent) for sent, _ in UPDATES))
    updates = [e for e in entries if e["type"] == wire.UPDATE]
    got = [{k: v for k, v in e.items() if k not in ("seq", "at")} for e in updates]
    assert got == [
        {"type": wire.UPDATE, "session": "hostile-1", "kind": sent["sessionUpdate"], **words}
        for sent, words in UPDATES
    ]
    assert entries[-1]["type"] == wire.TURN_END and entries[-1]["stop_reason"] == "end_turn"


async def test_what_swarm_does_not_serve_is_answered_method_not_found(home: Path) -> None:
    """No files, no terminals, no elicitation, no extension methods: each request is
    answered with an error, and the turn goes on."""
    requests: list[tuple[str, dict[str, Any]]] = [
        ("fs/read_text_file", {"path": "/etc/hostname"}),
        ("fs/write_text_file", {"path": "/tmp/x", "content": "x"}),
        ("terminal/create", {"command": "ls"}),
        ("terminal/output", {"terminalId": "t-1"}),
        ("terminal/release", {"terminalId": "t-1"}),
        ("terminal/wait_for_exit", {"terminalId": "t-1"}),
        ("terminal/kill", {"terminalId": "t-1"}),
        ("elicitation/create", {"mode": "form", "message": "Name?", "requestedSchema": {}}),
        ("_zed/extension", {"x": 1}),
    ]
    commands = [
        f"request {method} {json.dumps({'sessionId': 'hostile-1', **params})}"
        for method, params in requests
    ]
    entries = await turn(home, ";".join([*commands, "say after"]))
    texts = [str(e.get("text")) for e in entries if e["type"] == wire.UPDATE]
    answers = [json.loads(t.removeprefix("answered ")) for t in texts if t.startswith("answered")]
    assert [a["code"] for a in answers] == [METHOD_NOT_FOUND] * len(requests), answers
    assert said(entries).endswith("after")
    assert entries[-1]["type"] == wire.TURN_END and entries[-1]["stop_reason"] == "end_turn"


async def test_a_permission_request_is_journaled_whole_and_answered(home: Path) -> None:
    """The request's title, tool kind, tool call (its wire names) and options, then the
    option swarm chose; a request with no title nor kind, cancelled. (Calls the agent never
    announced: an announced one fills what its request leaves out.)"""
    call = {"toolCallId": "asked-1", "title": "touch x", "kind": "execute", "status": "pending",
            "rawInput": {"command": "touch x"}}  # fmt: skip
    options = [{"optionId": "allow", "name": "Allow", "kind": "allow_once"},
               {"optionId": "reject", "name": "Reject", "kind": "reject_once"}]  # fmt: skip
    asks = [{"sessionId": "hostile-1", "toolCall": tool, "options": options}
            for tool in (call, {"toolCallId": "asked-2"})]  # fmt: skip
    text = ";".join(f"request session/request_permission {json.dumps(ask)}" for ask in asks)
    start = before = (await client.hello(home, AGENT)).seq
    prompting = asyncio.create_task(client.prompt(home, AGENT, next(_deliveries), text))
    journaled = []
    for option in ("allow", None):
        found = await entries_until(home, before, (wire.PERMISSION,))
        (request,) = [e for e in found if e["type"] == wire.PERMISSION]
        journaled.append(request)
        answer = await client.answer(home, AGENT, Answer(request=request["request"], option=option))
        assert answer == Done()
        before = request["seq"]
    assert (await prompting).ok
    entries = await entries_until(home, start, (wire.TURN_END,))
    said_options = [{"id": "allow", "name": "Allow", "kind": "allow_once"},
                    {"id": "reject", "name": "Reject", "kind": "reject_once"}]  # fmt: skip
    assert [{k: e[k] for k in ("title", "kind", "tool", "options")} for e in journaled] == [
        {"title": "touch x", "kind": "execute", "tool": call, "options": said_options},
        {"title": "", "kind": "", "tool": {"toolCallId": "asked-2"}, "options": said_options},
    ]
    done = [e for e in entries if e["type"] == wire.PERMISSION_DONE]
    assert [{k: v for k, v in e.items() if k not in ("seq", "at", "request")} for e in done] == [
        {"type": wire.PERMISSION_DONE, "option": "allow", "name": "Allow", "kind": "allow_once"},
        {"type": wire.PERMISSION_DONE, "option": None},
    ]
    texts = [str(e.get("text")) for e in entries if e["type"] == wire.UPDATE]
    assert texts == ['answered {"outcome": {"optionId": "allow", "outcome": "selected"}}',
                     'answered {"outcome": {"outcome": "cancelled"}}']  # fmt: skip


async def test_a_request_naming_an_announced_call_alone_is_filled_from_it(home: Path) -> None:
    """Mistral Vibe's way: the tool call announced (``tool_call``), then a request that names
    only its id: the request journaled with the call's title, kind and input, so the person
    sees what would run."""
    announced = {
        "sessionUpdate": "tool_call",
        "toolCallId": "vibe-1",
        "title": "bash",
        "kind": "execute",
        "status": "pending",
        "rawInput": {"command": "make deploy"},
    }
    ask = {"sessionId": "hostile-1", "toolCall": {"toolCallId": "vibe-1"},
           "options": [{"optionId": "no", "name": "Deny", "kind": "reject_once"}]}  # fmt: skip
    text = f"{raw_update(announced)};request session/request_permission {json.dumps(ask)}"
    before = (await client.hello(home, AGENT)).seq
    prompting = asyncio.create_task(client.prompt(home, AGENT, next(_deliveries), text))
    found = await entries_until(home, before, (wire.PERMISSION,))
    (request,) = [e for e in found if e["type"] == wire.PERMISSION]
    assert (request["title"], request["kind"]) == ("bash", "execute")
    assert request["tool"]["rawInput"] == {"command": "make deploy"}
    assert "sessionUpdate" not in request["tool"]
    answer = await client.answer(home, AGENT, Answer(request=request["request"], option="no"))
    assert answer == Done() and (await prompting).ok
