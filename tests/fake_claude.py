"""A stand-in for the ``claude`` command, for the hook tests: it runs the command hooks its
workspace's ``.claude/settings.local.json`` configures for an event, as Claude Code does.

``claude EVENT PAYLOAD_FILE`` (run in the workspace): every hook group of EVENT whose matcher
fits (``*``, empty or missing, or the tool's name) has each command run through ``sh -c``
with the payload on stdin and the hook's own ``timeout``; the hooks' stdout is printed and the
exit status is the highest one. ``claude codex PAYLOAD_FILE`` does the same with Codex CLI's
``.codex/hooks.json`` for the payload's ``hook_event_name`` (Codex CLI's hooks, in Claude
Code's format).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _claude(event: str, payload: str, file: str = ".claude/settings.local.json") -> int:
    settings = json.loads(Path(file).read_text(encoding="utf-8"))
    try:  # Claude Code picks the hooks by the tool's name; bad JSON reaches every hook
        tool = str(json.loads(payload).get("tool_name", ""))
    except (ValueError, AttributeError):
        tool = ""
    status = 0
    for group in settings.get("hooks", {}).get(event, []):
        matcher = group.get("matcher") or "*"
        if matcher not in ("*", tool):
            continue
        for hook in group["hooks"]:
            done = subprocess.run(
                ["sh", "-c", hook["command"]],
                input=payload,
                capture_output=True,
                text=True,
                timeout=hook.get("timeout", 60),
            )
            sys.stdout.write(done.stdout)
            sys.stderr.write(done.stderr)
            status = max(status, done.returncode)
    return status


def _codex(payload: str) -> int:
    event = str(json.loads(payload).get("hook_event_name", ""))
    return _claude(event, payload, ".codex/hooks.json")


def main() -> int:
    """``claude EVENT PAYLOAD_FILE`` / ``claude codex PAYLOAD_FILE``."""
    event, payload = sys.argv[1], Path(sys.argv[2]).read_text(encoding="utf-8")
    return _codex(payload) if event == "codex" else _claude(event, payload)


if __name__ == "__main__":
    sys.exit(main())
