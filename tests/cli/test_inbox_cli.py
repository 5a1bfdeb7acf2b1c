"""``swarm inbox``, ``swarm approve``, ``swarm reject`` and ``swarm reply Q-3`` in a child
process over the same home: the queue as a table and as JSON, answers in place, one-line
errors for a wrong reference or an item already decided."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.helpers import run_cli
from tests.inbox.test_inbox import every_kind, fail_delivery

pytestmark = pytest.mark.both_databases


async def swarm(home: Path, *args: str, actor: str = "boss") -> tuple[int, str, str]:
    """One ``swarm`` run as ``actor``: (exit status, stdout, stderr)."""
    done = await asyncio.to_thread(run_cli, home, "--as", actor, *args)
    return done.code, done.out, done.err


async def test_inbox_lists_everything_and_each_item_is_answered_from_the_cli(
    home: Path, service: SwarmService, clock: ManualClock
) -> None:
    assert await swarm(home, "inbox") == (0, "nothing needs you\n", "")
    refs = await every_kind(service, clock)
    code, out, err = await swarm(home, "inbox")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["REF", "KIND", "WAITING", "CONCERNS", "WHAT", "ANSWER", "WITH"]
    assert [line.split()[0] for line in lines[1:]] == list(refs.values())
    prompt_line = next(line for line in lines if line.startswith(refs["prompt"]))
    assert "Bash(rm -rf build) Allow?" in prompt_line  # one line: the newline is a space
    assert "approve = 1 Yes; reject = 3 No; --option 1|2|3" in prompt_line
    assert f'swarm reply {refs["question"]} "..."' in out
    assert f"swarm approve {refs['gate']} | swarm reject {refs['gate']}" in out
    code, out, _ = await swarm(home, "inbox", "--json")
    items = json.loads(out)
    assert [i["ref"] for i in items] == list(refs.values())
    assert items[3]["options"][0] == {"key": "1", "label": "Yes", "kind": "allow_once"}
    assert items[3]["since"].endswith("Z")  # the one JSON shape: times as ISO-8601

    assert await swarm(home, "approve", refs["prompt"], "--option", "2") == (
        0,
        f'{refs["prompt"]}: "Yes, and don\'t ask again" chosen for Agent-1\n',
        "",
    )
    code, out, err = await swarm(home, "reject", refs["prompt"], actor="carol")
    assert (code, out) == (2, "")
    assert err == f"swarm: error: {refs['prompt']} was already answered '2' by boss\n"
    code, out, err = await swarm(home, "reply", refs["question"], "Postgres")
    assert code == 0 and out.startswith("T-") and "answer queued to Agent-2" in out, err
    code, out, _ = await swarm(home, "reject", refs["gate"], "--note", "not now", "--json")
    assert json.loads(out)["action"] == "reject" and code == 0
    code, out, _ = await swarm(home, "approve", refs["plan"])
    assert out.startswith(f"{refs['plan']} approved: 2 task(s) created (T-")
    code, out, _ = await swarm(home, "inbox")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["A-1"]


async def test_wrong_references_are_one_line_and_write_nothing(
    home: Path, service: SwarmService, clock: ManualClock
) -> None:
    refs = await every_kind(service, clock)
    before = await service.history.last(1)
    for args, error in (
        (("approve", "Z-1"), "unknown item 'Z-1': items look like Q-3 (question), R-7 (prompt)"),
        (("reject", "A-1"), "A-1 is an alert: nothing to reject; it clears itself"),
        (("approve", refs["plan"], "--note", "ok"), "a note is kept for a gate (T-12)"),
        (("approve", refs["gate"], "--option", "1"), "--option is for a prompt (R-7)"),
        (("reply", refs["plan"], "yes"), "is a plan: only a question takes a reply"),
        (("approve", "R-99"), "unknown prompt R-99"),
    ):
        code, out, err = await swarm(home, *args)
        assert (code, out) == (2, ""), args
        assert err.startswith("swarm: error: ") and error in err and err.count("\n") == 1, err
    assert await service.history.last(1) == before
    code, out, _ = await swarm(home, "approve", "--help")
    assert code == 0 and "R-7   an agent's permission prompt" in out


async def test_a_failed_delivery_is_retried_or_dismissed_from_the_cli(
    home: Path, service: SwarmService
) -> None:
    """``swarm inbox retry|dismiss D-5``: its answer in one line, a second one refused in one
    line; the table names the commands."""
    failed = await fail_delivery(service, "Agent-3", "please rebase")
    second = await fail_delivery(service, "Agent-4", "stand-up")
    code, out, err = await swarm(home, "inbox")
    assert code == 0, err
    assert f"swarm inbox retry D-{failed} | swarm inbox dismiss D-{failed}" in out
    assert await swarm(home, "inbox", "retry", f"D-{failed}") == (
        0,
        f"D-{failed}: message to Agent-3 queued again\n",
        "",
    )
    code, out, _ = await swarm(home, "inbox", "dismiss", f"D-{second}", "--json")
    assert code == 0 and json.loads(out)["text"] == f"D-{second} dismissed by boss" + (
        " (message to Agent-4)"
    )
    code, out, err = await swarm(home, "inbox", "dismiss", f"D-{second}", actor="carol")
    assert (code, out) == (2, "")
    assert err == f"swarm: error: D-{second} was already dismissed by boss\n"
    code, out, err = await swarm(home, "inbox", "nudge", f"D-{failed}")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "does not wait for a person" in err or "is queued" in err
    assert await service.inbox.needs() == []
