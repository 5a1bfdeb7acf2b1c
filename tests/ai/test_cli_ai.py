"""``swarm plan``, ``swarm usage`` and ``swarm summary`` in child processes."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from localmodel import LocalModel, Step

from tests.ai.conftest import KEY, VALID, plan_reply, task
from tests.helpers import ROOT, CliResult, run_cli

pytestmark = pytest.mark.timeout(60)


def model_env(server: LocalModel, **extra: str) -> dict[str, str]:
    """Environment pointing the CLI at the local server, with a price and fast retries."""
    return {
        "OPENAI_BASE_URL": server.openai_url,
        "OPENAI_API_KEY": KEY,
        "SWARM_MODEL_PLAN": "test-model",
        "SWARM_AI_PRICES": "test-model=1/2",
        "SWARM_AI_BACKOFF": "0.01",
        **extra,
    }


async def swarm(home: Path, *args: str, env: dict[str, str]) -> CliResult:
    """Run the CLI off the event loop, so the local server can answer it."""
    return await asyncio.to_thread(run_cli, home, *args, env=env)


async def test_plan_yes_json_creates_the_graph_then_show_and_usage(
    home: Path, server: LocalModel, tmp_path: Path
) -> None:
    review = tmp_path / "review.md"
    review.write_text("## Findings\n1. login has no tests\n2. token refresh races\n")
    server.queue(Step(text="{oops"), plan_reply(*VALID, input_tokens=2000, output_tokens=500))
    env = model_env(server)
    result = await swarm(
        home, "plan", "Harden", "login", "--context-file", str(review), "--yes", "--json", env=env
    )
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert (shown["id"], shown["status"], shown["goal"]) == ("P-1", "approved", "Harden login")
    assert (shown["done"], shown["total"]) == (0, 4)
    by_title = {t["title"]: t for t in shown["tasks"]}
    assert by_title["Task c"]["after"] == [by_title["Task a"]["id"], by_title["Task b"]["id"]]
    assert {t["plan_id"] for t in shown["tasks"]} == {"P-1"}
    assert "token refresh races" in server.requests[0].text
    assert "not valid JSON" in server.requests[1].text

    result = await swarm(home, "plan", "show", "P-1", env=env)
    assert result.code == 0, result.err
    assert result.out.startswith("P-1 approved: 0/4 done (0%): Harden the login flow")
    assert "blocked:" in result.out and "waiting for T-1" in result.out

    result = await swarm(home, "usage", "--json", env=env)
    usage = json.loads(result.out)
    assert usage["total"]["calls"] == 2
    (plan,) = usage["by_purpose"]
    assert plan["purpose"] == "plan" and plan["completion_tokens"] >= 500
    assert plan["cost"] == pytest.approx(
        (plan["prompt_tokens"] * 1 + plan["completion_tokens"] * 2) / 1e6
    )
    result = await swarm(home, "usage", env=env)
    assert "per purpose:\n  plan           2 calls (0 failed)" in result.out


async def test_without_a_terminal_or_yes_nothing_is_created_and_no_call_made(
    home: Path, server: LocalModel
) -> None:
    result = await swarm(home, "plan", "Harden login", env=model_env(server))
    assert result.code == 2
    assert "add --yes to create the plan's tasks" in result.err
    assert server.requests == []
    listed = await swarm(home, "task", "list", "--json", env=model_env(server))
    assert json.loads(listed.out) == []


async def test_without_a_model_the_commands_say_how_to_enable_them(home: Path) -> None:
    env = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    result = await swarm(home, "plan", "Harden login", "--yes", env=env)
    assert result.code == 2
    assert result.err.strip() == (
        "swarm: error: planning needs a model: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL "
        "(a local OpenAI-compatible server such as Ollama, vLLM or LM Studio) to enable it"
    )
    result = await swarm(home, "summary", env=env)
    assert result.code == 0
    assert result.out.startswith("No AI model is configured, so here are the plain numbers")
    result = await swarm(home, "usage", env=env)
    assert "no model calls yet" in result.out and "AI is off: set OPENAI_API_KEY" in result.out


async def test_a_rejected_plan_and_unknown_plans_exit_2(home: Path, server: LocalModel) -> None:
    server.queue(plan_reply(task("a", "wizard")), plan_reply(task("a", "wizard")))
    env = model_env(server)
    result = await swarm(home, "plan", "Harden login", "--yes", env=env)
    assert result.code == 2 and "invalid twice, nothing was created" in result.err
    result = await swarm(home, "plan", "show", "P-7", env=env)
    assert (result.code, result.err.strip()) == (2, "swarm: error: unknown plan P-7")
    result = await swarm(home, "summary", "--period", "1y", env=env)
    assert result.code == 2 and "invalid period '1y'" in result.err


def run_in_terminal(home: Path, env: dict[str, str], answer: bytes, *args: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin; type ``answer`` when asked."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    child_env |= env | {"SWARM_HOME": str(home)}
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", *args],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=child_env,
        )
        os.write(leader, answer)
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(leader)
        os.close(follower)
    return proc.returncode, out.decode() + err.decode()


@pytest.mark.parametrize("answer, created", [(b"y\n", 4), (b"\n", 0)])
async def test_the_terminal_asks_before_creating(
    home: Path, server: LocalModel, answer: bytes, created: int
) -> None:
    server.queue(plan_reply(*VALID))
    env = model_env(server)
    code, output = await asyncio.to_thread(run_in_terminal, home, env, answer, "plan", "Login")
    assert code == 0, output
    assert "- a  [qa, high] Task a" in output and "Create these 4 tasks? [y/N]" in output
    listed = await swarm(home, "task", "list", "--json", env=env)
    assert len(json.loads(listed.out)) == created
    shown = await swarm(home, "plan", "show", "P-1", "--json", env=env)
    assert json.loads(shown.out)["status"] == ("approved" if created else "discarded")
