"""An agent-like program for the day-at-scale benchmark (``bench/day_at_scale.py``): the
terminal prompt of :mod:`tests.apps.term_chat` (prompt_toolkit, bracketed paste) that acts
on what swarm pastes as a hooked agent CLI would, through swarm's own commands.

Run in a tmux pane: ``python -m tests.apps.day_agent OUTFILE --name AGENT --ready PATH
[--work S] [--ask-every N] [--prompt-every N]``, with the agent's SWARM_* environment.

Every message is appended to OUTFILE as a JSON line ``{"text", "at"}`` (wall time of its
arrival). A task's prompt (the scheduler's ``[swarm] ... | task T-<n> |`` header) starts a
turn, as Claude Code does: the ``UserPromptSubmit`` hook, ``--work`` seconds of "work" (a
``PreToolUse`` hook half-way), every ``--ask-every``-th task a question asked with
``swarm ask --wait``, every ``--prompt-every``-th a permission prompt (a
``PermissionRequest`` hook that waits for a person's answer), then ``swarm task done`` and
the ``Stop`` hook. Each such command's CPU time is appended to ``OUTFILE.cpu``
(``{"what", "cpu_s", "wall_s", "code"}``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from prompt_toolkit import print_formatted_text

from tests.apps.term_chat import TermChat

# a task's header, as the scheduler writes it (an onboarding text may come before it)
TASK = re.compile(r"^\[swarm\] from scheduler to \S+ \| task T-(\d+) \|", re.MULTILINE)
HOOK = [sys.executable, "-m", "bot.cli.hook", "--agent"]
SWARM = [sys.executable, "-m", "bot.cli.main"]


class DayAgent(TermChat):
    """The prompt loop, and a worker thread per task prompt."""

    def __init__(self, out: TextIO, name: str, ready: Path | None, args: argparse.Namespace):
        super().__init__(out, name, ready)
        self.args = args
        self.cpu = Path(str(args.outfile) + ".cpu").open("a", encoding="utf-8")  # noqa: SIM115
        self.lock = threading.Lock()

    def record(self, text: str) -> None:
        """Append the message with its arrival time; a task's prompt starts its turn."""
        at = time.time()
        self.out.write(json.dumps({"text": text, "at": at}, ensure_ascii=True) + "\n")
        self.out.flush()
        self.count += 1
        print_formatted_text(f"[{self.count}] received {len(text)} chars")
        found = TASK.search(text)
        if found:
            threading.Thread(target=self.turn, args=(int(found.group(1)),), daemon=True).start()

    def turn(self, task: int) -> None:
        """Work on task ``task`` and report it done, as a hooked agent would."""
        ref, cwd = f"T-{task}", os.getcwd()
        self.hook("UserPromptSubmit", {"prompt": f"work on {ref}"})
        time.sleep(self.args.work / 2)
        self.hook("PreToolUse", {"tool_name": "Bash", "tool_input": {"command": "make test"}})
        time.sleep(self.args.work / 2)
        if self.args.ask_every and task % self.args.ask_every == 0:
            self.command("ask", [*SWARM, "ask", "--wait", ref, f"which branch for {ref}?"])
        if self.args.prompt_every and task % self.args.prompt_every == 0:
            tool = {"command": f"rm -rf build/{task}", "description": "clean the build"}
            self.hook("PermissionRequest", {"tool_name": "Bash", "tool_input": tool})
        self.command("done", [*SWARM, "task", "done", ref, "--note", f"done in {cwd}"])
        self.hook("Stop", {"stop_hook_active": False})

    def hook(self, event: str, fields: dict[str, object]) -> None:
        """Run swarm's hook as Claude Code runs it: its JSON on stdin."""
        body = {"session_id": self.name, "transcript_path": "", "cwd": os.getcwd(),
                "permission_mode": "default", "hook_event_name": event, **fields}  # fmt: skip
        self.command(event, [*HOOK, self.name], json.dumps(body))

    def command(self, what: str, argv: list[str], stdin: str = "") -> None:
        """Run ``argv``; its CPU time (user + system, from wait4) goes to the .cpu file."""
        began = time.monotonic()
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        assert process.stdin is not None
        process.stdin.write(stdin)
        process.stdin.close()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        line = {"what": what, "cpu_s": usage.ru_utime + usage.ru_stime,
                "wall_s": time.monotonic() - began, "code": process.returncode}  # fmt: skip
        with self.lock:
            self.cpu.write(json.dumps(line) + "\n")
            self.cpu.flush()


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run the prompt."""
    parser = argparse.ArgumentParser(description="An agent-like terminal program (swarm).")
    parser.add_argument("outfile", type=Path, help="append each message here as a JSON line")
    parser.add_argument("--name", required=True, help="the agent's id")
    parser.add_argument("--ready", type=Path, help="written once the first prompt is drawn")
    parser.add_argument("--work", type=float, default=1.0, help="seconds per task")
    parser.add_argument("--ask-every", type=int, default=0, help="a question every N tasks")
    parser.add_argument("--prompt-every", type=int, default=0, help="a prompt every N tasks")
    args = parser.parse_args(argv)
    with args.outfile.open("a", encoding="utf-8") as out:
        DayAgent(out, args.name, args.ready, args).run()


if __name__ == "__main__":
    main()
