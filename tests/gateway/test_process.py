"""The gateway process: started from a spec file with the keys in its environment only,
it serves each agent's sockets, writes its records as JSON lines for the coordinator, ends
on SIGTERM and removes its sockets; a bad spec is one line and exit 2."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from localmodel import LocalModel, Step

from automation.launch.gateway import MODULE, REFUSALS_FILE, USAGE_FILE, read_lines
from automation.launch.gateway._spec import SpecError, parse_spec

KEY = "sk-ant-from-the-environment-42"


def _spec(sockets: Path, url: str) -> dict[str, object]:
    return {"records": str(sockets / "records"), "agents": [
        {"agent": "alice",
         "model": {"socket": str(sockets / "alice.model"), "upstream": url,
                   "vendor": "anthropic", "key_env": "TEST_GATEWAY_KEY"},
         "egress": {"socket": str(sockets / "alice.egress"), "allow": ["github.com:443"]}},
    ]}  # fmt: skip


async def test_the_process_serves_records_and_ends(model: LocalModel, sockets: Path) -> None:
    spec_file = sockets / "spec.json"
    spec_file.write_text(json.dumps(_spec(sockets, model.url)))
    env = {"PATH": os.environ.get("PATH", ""), "TEST_GATEWAY_KEY": KEY}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-m", MODULE, "--spec", str(spec_file),
        "--pid-file", str(sockets / "gateway.pid"), cwd=str(sockets), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        assert ready == {"ready": True, "pid": process.pid}
        assert (sockets / "gateway.pid").read_text().split()[0] == str(process.pid)
        assert "sk-" not in spec_file.read_text()
        model.queue(Step(text="hello", input_tokens=77, output_tokens=9))
        await _ask(sockets / "alice.model")
        await _refused(sockets / "alice.egress")
        assert model.requests[-1].sent_secret("x-api-key", KEY)
        usage = await _lines(sockets / "records" / USAGE_FILE)
        refusals = await _lines(sockets / "records" / REFUSALS_FILE)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert KEY not in err.decode()
    assert usage[0]["agent"] == "alice" and usage[0]["usage"]["input"] == 77
    assert usage[0]["usage"]["output"] == 9 and usage[0]["model"] == "local"
    assert refusals[0]["agent"] == "alice" and refusals[0]["host"] == "evil.example"
    assert not (sockets / "alice.model").exists() and not (sockets / "alice.egress").exists()
    assert not (sockets / "gateway.pid").exists()
    assert (sockets / "records").stat().st_mode & 0o077 == 0


async def test_a_bad_spec_is_one_line_and_exit_2(sockets: Path) -> None:
    spec_file = sockets / "spec.json"
    spec_file.write_text('{"records": "/tmp/x", "agents": [{"agent": "a", "model": 1}]}')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-m", MODULE, "--spec", str(spec_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert err.decode().strip().count("\n") == 0 and "agents[0].model" in err.decode()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"upstream": "ftp://x"}, "upstream"),
        ({"upstream": "https://user:pw@api.example"}, "upstream"),
        ({"vendor": "acme"}, "vendor"),
        ({"key_env": "sk-real-key-in-the-spec"}, "key_env"),
        ({"key": "sk-real"}, "an object of"),
        ({"socket": "relative.sock"}, "socket"),
    ],
)
def test_a_spec_entry_refused(tmp_path: Path, change: dict[str, str], said: str) -> None:
    raw = _spec(tmp_path, "http://127.0.0.1:1")
    raw["agents"][0]["model"].update(change)  # type: ignore[index]
    with pytest.raises(SpecError, match=said):
        parse_spec(raw)


def test_a_bad_allow_list_entry_refused(tmp_path: Path) -> None:
    raw = _spec(tmp_path, "http://127.0.0.1:1")
    raw["agents"][0]["egress"]["allow"] = ["github.com."]  # type: ignore[index]
    with pytest.raises(SpecError, match=r"agents\[0\]\.egress"):
        parse_spec(raw)


async def _ask(socket: Path) -> None:
    connector = aiohttp.UnixConnector(path=str(socket))
    async with aiohttp.ClientSession(connector=connector) as session:
        body = {"model": "local", "max_tokens": 9, "messages": [{"role": "user", "content": "x"}]}
        headers = {"x-api-key": "placeholder", "anthropic-version": "2023-06-01"}
        async with session.post("http://gw/v1/messages", json=body, headers=headers) as answer:
            assert answer.status == 200
            await answer.read()


async def _refused(socket: Path) -> None:
    reader, writer = await asyncio.open_unix_connection(str(socket))
    writer.write(b"CONNECT evil.example:443 HTTP/1.1\r\n\r\n")
    assert (await reader.readline()).startswith(b"HTTP/1.1 403 ")
    writer.close()


async def _lines(path: Path) -> list[dict[str, Any]]:
    for _ in range(500):
        if found := read_lines(path):
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"no record in {path}")
