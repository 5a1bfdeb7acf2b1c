"""A protocol host's permission requests are named uniquely across its restarts (issue 50):
a host started again on the same session (``session/load``) never reuses a request's name,
which swarm, seeing it before, took for one it had opened (no prompt: the agent waited for
ever; tests/agents/test_protocol_live.py met it after its host-kill test)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from automation.protocol.host import Host, Journal
from core.hosts import entries, wire
from core.hosts.entries import Answer, PermissionAsked
from core.hosts.replies import Done


class _Driver:
    session = "session-1"


async def _asked_request(host: Host) -> str:
    """The name of the first request ``host`` journals (answered at once: cancelled)."""
    asking = asyncio.create_task(host.ask("run ls", "execute", {}, [{"id": "allow"}]))
    await asyncio.sleep(0)
    read = [entries.read(wire.decode(e.line)).body for e in host.journal.entries]
    (request,) = [body.request for body in read if isinstance(body, PermissionAsked)]
    assert host.answer(Answer(request=request, option=None)) == Done()
    assert await asking is None
    return str(request)


async def test_a_host_started_again_on_its_session_names_its_requests_anew(
    tmp_path: Path,
) -> None:
    names = []
    for run in range(2):  # the host killed and started again, the session loaded
        journal = Journal(tmp_path / f"journal-{run}.jsonl")
        host = Host("Agent-1", journal)
        host.driver = _Driver()  # type: ignore[assignment]
        try:
            names.append(await _asked_request(host))
        finally:
            await journal.close()
        await asyncio.sleep(0.002)
    assert names[0].startswith("session-1#") and names[1].startswith("session-1#")
    assert names[0] != names[1], names  # before: "session-1#1" twice
