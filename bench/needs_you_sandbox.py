""" "Needs you" for one small task, each real CLI sandboxed in its no-prompt mode against the
same CLI unsandboxed in its default mode (``tests/agents/sandbox_live.py``).

Run: ``.venv/bin/python bench/needs_you_sandbox.py [--cli codex --cli gemini]``. Each run
is ``swarm desktop up --headless`` of one agent (tmux) against localmodel; the task writes a
file, reads what it can (swarm's database, a key in ``~/.ssh``), reports ``swarm task start``
from its shell and ``done`` by swarm's MCP tool. Every dialog swarm's rules read on its pane
(each one a "Needs you" item once swarm's watch sees it) is counted and answered with its
allowing option, as a person would; the inbox's open items are counted at the end. The
rig's home is under the user's home: Codex's own sandbox refuses a home under ``/tmp``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from tests.agents import sandbox_live as box  # noqa: E402
from tests.agents.live import LocalModel, find_binary  # noqa: E402
from tests.desktop.sandbox_rig import SandboxRig  # noqa: E402

MODES = {  # cli: its no-prompt mode, then the text at its input in that mode and its default
    "claude-code": ("--dangerously-skip-permissions", "bypass permissions on", "auto mode on"),
    "codex": ("--dangerously-bypass-approvals-and-sandbox", "? for shortcuts", "? for shortcuts"),
    "gemini": ("--approval-mode yolo", "Type your message", "Type your message"),
}


def one(cli: str, sandboxed: bool) -> tuple[box.Tally, str]:
    """The small task once: what it took of a person, and what its shell could read."""
    binary, why = find_binary(cli)
    if binary is None:
        raise SystemExit(why)
    mode, ready, default_ready = MODES[cli]
    root = Path(tempfile.mkdtemp(prefix="needs-you-", dir=Path.home()))
    try:
        rig = SandboxRig(root / "rig", sandbox=sandboxed)
        model = LocalModel(root, box.script(rig, sandboxed))
        getattr(box, f"setup_{cli.replace('-', '_')}")(rig, model)
        command = f"{binary} {mode}" if sandboxed else str(binary)
        box.use_command(rig, cli, command, mcp=True)
        tally = box.Tally(answer=True)
        try:
            box.start(rig, cli, ready if sandboxed else default_ready, tally)
            box.wait_mcp(rig, cli, model, tally, timeout=150)
            box.do_task(rig, cli, tally)
            seen_file = rig.ws["Agent-1"] / "seen.txt"
            if not seen_file.exists():  # its shell command never ran: what its pane says
                print(box.screen(rig), file=sys.stderr)
                return tally, "its shell did not run"
            seen = seen_file.read_text().split("\n")[:2]
        finally:
            box.stop(rig, model)
        return tally, " ".join("SECRET" if "SECRET" in s else s for s in seen)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", action="append", choices=sorted(MODES))
    args = parser.parse_args()
    print("| CLI | run as | Needs you | dialogs | inbox items | task s | its shell read |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for cli in args.cli or sorted(MODES):
        for sandboxed in (True, False):
            tally, seen = one(cli, sandboxed)
            how = f"sandboxed, `{MODES[cli][0]}`" if sandboxed else "no sandbox, its default"
            print(f"| {cli} | {how} | {tally.needs_you} | {', '.join(tally.dialogs) or '-'} "
                  f"| {len(tally.items)} | {tally.seconds:.1f} | {seen} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
