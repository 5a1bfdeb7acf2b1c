"""The ACP SDK as a host imports it (``automation.protocol.acp_import``): its models built
without their fields' docstrings, reading the wire as the SDK imported as it is does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from automation.protocol import acp_import

ROOT = Path(__file__).resolve().parents[2]
UPDATE = {
    "sessionId": "s-1",
    "update": {
        "sessionUpdate": "tool_call",
        "toolCallId": "t-1",
        "title": "Edit parser.py",
        "kind": "edit",
        "status": "pending",
        "content": [{"type": "diff", "path": "/w/parser.py", "oldText": "a", "newText": "b"}],
        "_meta": {"claudeCode": {"toolName": "Edit"}},
    },
}
READ = """
import json, sys
from pydantic._internal import _fields
LOAD
import acp.schema as schema
note = schema.SessionNotification.model_validate(json.loads(sys.argv[1]))
print(json.dumps({
    "dump": note.model_dump(mode="json", by_alias=True, exclude_none=True),
    "description": schema.SessionNotification.model_fields["session_id"].description,
    "reader": _fields.extract_docstrings_from_cls.__name__,
}))
"""


def _read(load: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", READ.replace("LOAD", load), json.dumps(UPDATE)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def test_the_pinned_pydantic_has_the_docstring_reader_the_host_skips() -> None:
    # else a host's start takes the SDK's whole import again, silently
    assert acp_import.skips_docstrings()


def test_the_hosts_import_reads_an_update_as_the_sdks_own_and_skips_only_docstrings() -> None:
    plain = _read("")
    fast = _read("from automation.protocol import acp_import; acp_import.load()")
    assert fast["dump"] == plain["dump"]
    assert fast["dump"]["update"]["_meta"] == UPDATE["update"]["_meta"]  # type: ignore[index]
    assert plain["description"] == "The ID of the session this update pertains to."
    assert fast["description"] is None  # not read from the source
    assert fast["reader"] == plain["reader"] == "extract_docstrings_from_cls"  # put back
