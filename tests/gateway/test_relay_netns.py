"""The relay in a real network namespace (bubblewrap ``--unshare-net``): a client inside
reaches localmodel through relay -> the gateway's socket -> the gateway outside (with the
real key put on the wire), reaches an allowed echo server through the egress proxy, and
cannot reach the host's loopback (not localmodel's port directly, not through the proxy) nor
resolve a name."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from automation.launch.gateway import RELAY, AllowList, EgressProxy, EgressRoute, Refusal, Vendor
from tests.gateway.rig import REAL_KEYS, Rig
from tests.gateway.test_proxy import echo

__all__ = ["echo"]  # the fixture, used here
INSIDE = Path(__file__).with_name("inside.py")


def _bwrap_net() -> bool:
    if shutil.which("bwrap") is None:
        return False
    probe = ["bwrap", "--unshare-net", "--dev-bind", "/", "/", "true"]
    return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0


pytestmark = pytest.mark.skipif(not _bwrap_net(), reason="bubblewrap cannot unshare the network")


@pytest.fixture
async def egress(sockets: Path, echo: int, rig: Rig) -> AsyncIterator[tuple[Path, list[Refusal]]]:
    """The egress proxy allowing the echo server only."""
    refusals: list[Refusal] = []
    route = EgressRoute("anthropic", sockets / "egress.sock", AllowList([f"127.0.0.1:{echo}"]))
    proxy = EgressProxy([route], refusals.append)
    await proxy.start()
    yield route.socket, refusals
    await proxy.close()


async def test_inside_reaches_only_swarms_sockets(
    rig: Rig, egress: tuple[Path, list[Refusal]], echo: int
) -> None:
    egress_socket, refusals = egress
    host_port = rig.model.url.rsplit(":", 1)[1]
    argv = ["bwrap", "--unshare-net", "--dev-bind", "/", "/", "--die-with-parent",
            sys.executable, "-I", str(INSIDE), str(RELAY),
            str(rig.routes[Vendor.ANTHROPIC].socket), str(egress_socket), host_port,
            str(echo)]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 45)
    assert process.returncode == 0, err.decode()
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["model"]["type"] == "message", seen
    assert rig.model.requests[-1].sent_secret("x-api-key", REAL_KEYS[Vendor.ANTHROPIC])
    assert seen["host_loopback"] == "ConnectionRefusedError"
    assert seen["echo"] == "echo me"
    assert seen["dns"] == "gaierror", "no name is resolved inside"
    assert seen["denied"].startswith("HTTP/1.1 403 ")
    assert [(r.agent, r.host, r.port) for r in refusals] == [
        ("anthropic", "127.0.0.1", int(host_port))
    ]
    assert len(rig.records) == 1 and rig.records[0].usage is not None
