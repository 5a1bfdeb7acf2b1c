"""The protocol host's program loads what its agent's protocol needs: a CLI with a protocol
of its own (Claude Code's stream-json) never imports the ACP SDK, whose schema is most of a
host's start (~0.55 of its ~0.85 CPU-s, 2026-11-29), and an ACP CLI's host gets ACP's
driver."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT

DRIVER = """
import sys, tempfile
from pathlib import Path
from automation.protocol import program
from automation.protocol.host import Host
from automation.protocol.journal import Journal
from core.hosts.turns import Launched
folder = Path(tempfile.mkdtemp())
host = Host("A", Journal(folder / "journal"))
driver = program._driver(sys.argv[1], Launched(host, ["cli"], str(folder), [], {}))
print(type(driver).__name__, "acp" in sys.modules)
"""


def _driver_and_acp(protocol: str) -> list[str]:
    """The driver's class a host of ``protocol`` makes, and whether ``acp`` is imported then
    (a fresh, isolated Python, as the host runs)."""
    said = subprocess.run(
        [sys.executable, "-I", "-c", DRIVER, protocol], cwd=ROOT, capture_output=True,
        text=True, check=True, timeout=60,
    )  # fmt: skip
    return said.stdout.split()


def test_a_host_of_claude_codes_stream_json_leaves_the_acp_sdk_unimported() -> None:
    assert _driver_and_acp("stream-json") == ["StreamJsonDriver", "False"]


def test_a_host_of_an_acp_cli_drives_it_by_acp() -> None:
    assert _driver_and_acp("acp") == ["AcpDriver", "True"]
