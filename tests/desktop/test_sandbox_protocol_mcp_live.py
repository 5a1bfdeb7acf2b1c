"""A sandboxed protocol agent gets swarm's MCP server: ``desktop up --protocol`` of Agent-1
(``sandbox = true``, ``mcp = true``) names its door's ``swarm mcp`` in ACP's ``session/new``,
by its path inside, with none of swarm's variables; the small ACP agent of
``sandbox_acp_mcp.py`` starts it inside its bubblewrap sandbox, as a CLI starts its servers,
and calls ``report``: its ``done`` on T-1 is recorded as Agent-1's although the call and the
server's environment name Agent-2, and a ``start`` on Agent-2's task is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.desktop.sandbox_rig import SandboxRig, assign, burst, fenced

pytest.importorskip("mcp")
AGENT = Path(__file__).with_name("sandbox_acp_mcp.py")
PG_SECRET = "pg-password-of-swarms-own"  # libpq's, in the environment swarm runs with


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[SandboxRig]:
    """Agent-1 sandboxed with ``mcp = true``; no ``delivery`` said yet (``desktop up``
    writes it once the hosts are up, after their CLIs started their MCP servers)."""
    made = fenced(tmp_path, protocol=True)
    (made.bin / "acp-agent").write_text(AGENT.read_text(encoding="utf-8"), encoding="utf-8")
    text = made.config.read_text(encoding="utf-8").replace('delivery = "protocol"\n', "")
    made.config.write_text(text.replace("sandbox = true\n", "sandbox = true\nmcp = true\n", 1))
    made.env["PGPASSWORD"] = PG_SECRET
    yield made
    made.down()


@pytest.mark.timeout(240)
def test_a_sandboxed_protocol_agent_reports_by_its_doors_mcp_server_as_itself(
    rig: SandboxRig,
) -> None:
    asyncio.run(assign(rig, "mine"))  # T-1, Agent-1's
    assert rig.swarm("task", "add", "theirs", "--agent", "Agent-2").returncode == 0  # T-2
    asyncio.run(burst(rig))
    up = rig.swarm("desktop", "up", "--headless", "--protocol", "--json", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    work = rig.ws["Agent-1"]
    seen = (work / "mcp-seen.json").read_text(encoding="utf-8")
    (server,) = json.loads(seen)
    assert (server["name"], server["command"], server["args"]) == (
        "swarm", "/run/swarm/swarm", ["mcp"],
    ), server  # fmt: skip
    assert server.get("env") in ([], None), server  # nothing of swarm's crosses in
    assert PG_SECRET not in seen and str(rig.home) not in seen, seen
    lines = (work / "mcp-answers.jsonl").read_text(encoding="utf-8").splitlines()
    answers = {a["id"]: a for a in map(json.loads, lines)}
    assert answers[1]["result"]["serverInfo"]["name"] == "swarm", answers
    assert answers[2]["result"].get("isError") is not True, answers[2]
    refused = answers[3]["result"]
    assert refused["isError"] is True and "held by Agent-2" in json.dumps(refused), refused
    shown = json.loads(rig.swarm("task", "show", "T-1", "--json").stdout)
    assert shown["status"] == "done", shown
    (done,) = [e for e in shown["events"] if e["kind"] == "task.done"]
    assert done["actor"] == "Agent-1" and "by-mcp" in json.dumps(done), done
    theirs = json.loads(rig.swarm("task", "show", "T-2", "--json").stdout)
    assert theirs["status"] == "assigned", theirs
