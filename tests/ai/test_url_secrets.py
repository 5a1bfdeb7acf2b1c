"""Credentials in OPENAI_BASE_URL never reach the log, the terminal or the database."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path

import pytest
from localmodel import LocalModel

from core.privacy.redact import redact_urls
from tests.ai.conftest import KEY, VALID, plan_reply
from tests.helpers import run_cli

pytestmark = pytest.mark.timeout(60)
SECRET = "S3CRET"


def _with_credentials(url: str) -> str:
    return url.replace("http://", f"http://admin:{SECRET}@", 1)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stored(home: Path) -> str:
    with sqlite3.connect(home / "swarm.db") as conn:
        rows = conn.execute("SELECT * FROM usage").fetchall()
        rows += conn.execute("SELECT * FROM events").fetchall()
    return repr(rows)


def test_unreachable_server_error_log_and_usage_row_are_redacted(
    home: Path, tmp_path: Path
) -> None:
    log = tmp_path / "swarm.log"
    env = {
        "OPENAI_BASE_URL": f"http://admin:{SECRET}@127.0.0.1:{_closed_port()}/v1",
        "SWARM_AI_RETRIES": "1",
        "SWARM_AI_BACKOFF": "0",
        "SWARM_LOG_FILE": str(log),
    }
    result = run_cli(home, "-v", "plan", "Ship", "it", "--yes", env=env)
    assert result.code == 2
    assert result.err.startswith(
        "swarm: error: cannot reach the model server at http://[redacted]@127.0.0.1:"
    )
    assert result.err.count("\n") == 1
    written = log.read_text()
    assert "model call plan" in written and "[redacted]@127.0.0.1" in written
    stored = _stored(home)
    assert "[redacted]@127.0.0.1" in stored
    assert SECRET not in result.err + result.out + written + stored


async def test_working_server_with_credentials_logs_no_password(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "swarm.log"
    async with LocalModel() as server:
        server.queue(plan_reply(*VALID))
        env = {
            "OPENAI_BASE_URL": _with_credentials(server.openai_url),
            "OPENAI_API_KEY": KEY,
            "SWARM_LOG_FILE": str(log),
        }
        result = await asyncio.to_thread(run_cli, home, "-v", "plan", "Ship", "--yes", env=env)
    assert result.code == 0, result.err
    written = log.read_text()
    assert "HTTP Request: POST http://[redacted]@127.0.0.1" in written  # httpx's own line
    assert SECRET not in written + result.err + result.out + _stored(home)


@pytest.mark.parametrize(
    "text, clean",
    [
        ("http://admin:S3CRET@host/v1", "http://[redacted]@host/v1"),
        (
            "at HTTPS://u:p%40ss@h:1/x and ftp://tok@h/",
            "at HTTPS://[redacted]@h:1/x and ftp://[redacted]@h/",
        ),
        ("mail me@example.com, http://host/a@b", "mail me@example.com, http://host/a@b"),
    ],
)
def test_redact_urls(text: str, clean: str) -> None:
    assert redact_urls(text) == clean
