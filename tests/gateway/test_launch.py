"""The gateway process started as the protocol hosts are: in its own session (the end of
the process that started it does not end it), found again by its pid file, started once,
stopped; a pid file naming another process is no gateway."""

from __future__ import annotations

import json
import os
from pathlib import Path

import aiohttp
import pytest
from localmodel import LocalModel

from automation.launch.gateway import GatewayStartError, gateway_pid, start_gateway, stop_gateway
from core.processes import started

KEY = "sk-ant-launch-key"


async def test_started_found_once_and_stopped(model: LocalModel, sockets: Path) -> None:
    spec = {"records": str(sockets / "records"), "agents": [{"agent": "a", "model": {
        "socket": str(sockets / "a.model"), "upstream": model.url, "vendor": "anthropic",
        "key_env": "LAUNCH_KEY"}}]}  # fmt: skip
    (sockets / "spec.json").write_text(json.dumps(spec))
    pid_file, log = sockets / "gateway.pid", sockets / "gateway.log"
    env = {"PATH": os.environ.get("PATH", ""), "LAUNCH_KEY": KEY}
    pid = await start_gateway(sockets / "spec.json", pid_file, log, env)
    try:
        assert gateway_pid(pid_file) == pid
        assert os.getsid(pid) == pid != os.getsid(0), "its own session"
        assert await start_gateway(sockets / "spec.json", pid_file, log, env) == pid
        connector = aiohttp.UnixConnector(path=str(sockets / "a.model"))
        session = aiohttp.ClientSession(connector=connector)
        async with session, session.get("http://gw/v1/models", headers={"x-api-key": "p"}) as got:
            assert got.status == 200
        assert model.requests[-1].sent_secret("x-api-key", KEY)
    finally:
        assert await stop_gateway(pid_file)
    assert gateway_pid(pid_file) is None
    assert not (sockets / "a.model").exists()
    assert not await stop_gateway(pid_file)
    assert KEY not in log.read_text()


def test_a_pid_file_naming_another_process_is_no_gateway(sockets: Path) -> None:
    pid_file = sockets / "gateway.pid"
    pid_file.write_text(f"{os.getpid()} {started(os.getpid())}")  # this process: no gateway
    assert gateway_pid(pid_file) is None
    pid_file.write_text(f"{os.getpid()} 1")  # a pid reused since
    assert gateway_pid(pid_file) is None
    pid_file.write_text("garbage")
    assert gateway_pid(pid_file) is None


async def test_a_gateway_that_cannot_start_says_where_to_look(sockets: Path) -> None:
    (sockets / "spec.json").write_text('{"agents": []}')
    log = sockets / "gateway.log"
    with pytest.raises(GatewayStartError, match=str(log)):
        await start_gateway(sockets / "spec.json", sockets / "g.pid", log, {})
    assert "records" in log.read_text()
