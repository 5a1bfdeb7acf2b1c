"""A sandboxed agent writes its CLI's session folder (its own copy: launch/sandbox/state.py),
and swarm reads it outside for each turn's usage. What the agent plants there instead of a
session file is not read: a link to the person's key, a FIFO that never answers (opened, it
would hold the watch), ``/dev/zero`` (read, it never ends). A real session file is read as
before, in bounded pieces."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from core.clis.session_lines import JsonLines, first_line


def test_links_fifos_and_devices_in_a_session_folder_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "id_ed25519"
    secret.write_text('{"key": "SECRET"}\n')
    folder = tmp_path / "projects"
    folder.mkdir()
    (folder / "linked.jsonl").symlink_to(secret)
    (folder / "zero.jsonl").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.jsonl")
    began = time.monotonic()
    for name in ("linked.jsonl", "zero.jsonl", "fifo.jsonl"):
        assert JsonLines(folder / name).read() == [], name
        assert first_line(folder / name) is None, name
    assert time.monotonic() - began < 5  # nothing waited on the FIFO or read /dev/zero
    real = folder / "real.jsonl"
    real.write_text(json.dumps({"type": "assistant", "n": 1}) + "\n" + '{"half": ')
    lines = JsonLines(real)
    assert lines.read() == [{"type": "assistant", "n": 1}]  # the whole line; the half waits
    with real.open("a") as more:
        more.write("2}\n")
    assert lines.read() == [{"half": 2}]
    assert first_line(real) == {"type": "assistant", "n": 1}
