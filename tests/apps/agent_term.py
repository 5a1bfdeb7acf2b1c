"""An agent-like terminal program (prompt_toolkit) for the terminal-text signal's tests.

Run in a terminal (in tmux): ``python -m tests.apps.agent_term OUTFILE [--ready PATH]``. It
shows a ``> `` input prompt between two horizontal borders, like Claude Code's input box
(the bottom border is prompt_toolkit's bottom toolbar), and acts on commands typed into it:

- ``spin N``: a Claude-Code-style spinner line "✻ Working… (3s · esc to interrupt)" for N
  seconds (Escape stops it);
- ``ask``: a Claude-Code-style permission prompt ("Do you want to proceed?", "❯ 1. Yes",
  "2. Yes, and don't ask again ...", "3. No, and tell Claude what to do differently (esc)")
  that waits for one key: 1, 2, 3 or Escape;
- ``limit``: "Claude usage limit reached. Your limit will reset at 3pm (Europe/Paris).";
- ``error``: an "API Error: 529 ..." banner;
- ``clear``: an empty screen.

Each key received by a permission prompt is appended to OUTFILE as one JSON line
``{"key": "2"}`` (flushed at once); so is each command, as ``{"command": "ask"}``. When the
first prompt has been drawn, the program writes its pid to the ``--ready`` file.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import TextIO

from prompt_toolkit import Application, PromptSession, print_formatted_text
from prompt_toolkit.application import get_app
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.shortcuts import clear

WIDTH = 60
OPTIONS = (
    "Yes",
    "Yes, and don't ask again for rm commands in /tmp/work",
    "No, and tell Claude what to do differently (esc)",
)
LIMIT = "  ⎿  Claude usage limit reached. Your limit will reset at 3pm (Europe/Paris)."
ERROR = '  ⎿  API Error: 529 {"type":"error","error":{"type":"overloaded_error"}}'


def box(lines: list[str]) -> str:
    """``lines`` in a rounded box like Claude Code's dialogs."""
    inner = max(WIDTH, *(len(line) + 2 for line in lines))
    body = [f"│ {line.ljust(inner - 2)} │" for line in lines]
    return "\n".join([f"╭{'─' * inner}╮", *body, f"╰{'─' * inner}╯"])


BORDER = "─" * 40  # the input box's top and bottom edges


class AgentTerm:
    """The prompt loop: read a command, act on it, again."""

    def __init__(self, out: TextIO, ready: Path | None) -> None:
        self.out = out
        self.ready = ready
        self.session: PromptSession[str] = PromptSession()

    def run(self) -> None:
        """Prompt until Ctrl+D."""
        print_formatted_text(FormattedText([("bold", "agent-term"), ("", " — ready")]))
        while True:
            try:
                print(BORDER)
                command = self.session.prompt(
                    "> ", pre_run=self._announce_ready, bottom_toolbar=BORDER
                ).strip()
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
            self.act(command)

    def act(self, command: str) -> None:
        """Run one command."""
        self.record({"command": command})
        word, _, rest = command.partition(" ")
        if word == "spin":
            self.spin(float(rest or "30"))
        elif word == "ask":
            key = self.ask()
            self.record({"key": key})
            print(f"  ⎿  chose {key}")
        elif word == "limit":
            print(LIMIT)
        elif word == "error":
            print(ERROR)
        elif word == "clear":
            clear()
        elif command:
            print(f"  ⎿  unknown command {command!r}")

    def spin(self, seconds: float) -> None:
        """A spinner line with "esc to interrupt" until ``seconds`` pass or Escape."""
        started = time.monotonic()
        frames = "·✢✳✶✻✽"
        bindings = KeyBindings()

        @bindings.add("escape")
        def _stop(event: KeyPressEvent) -> None:
            event.app.exit()

        def line() -> str:
            spent = time.monotonic() - started
            if spent >= seconds:
                get_app().exit()
            frame = frames[int(spent * 10) % len(frames)]
            return f"{frame} Working… ({spent:.0f}s · esc to interrupt)"

        app: Application[None] = Application(
            layout=Layout(Window(FormattedTextControl(line), height=1)),
            key_bindings=bindings,
            refresh_interval=0.1,
            erase_when_done=True,  # the spinner goes, as the agent CLIs' spinners do
        )
        app.run()
        print("  ⎿  done")

    def ask(self) -> str:
        """A permission prompt; the key pressed (``1``, ``2``, ``3`` or ``esc``)."""
        bindings = KeyBindings()
        for key in ("1", "2", "3"):
            bindings.add(key)(lambda event, key=key: event.app.exit(result=key))
        bindings.add("escape")(lambda event: event.app.exit(result="esc"))
        lines = ["Bash command", "", "  rm -rf /tmp/work/build", "  Remove the build output",
                 "", "Do you want to proceed?"]  # fmt: skip
        lines += [f"{'❯' if i == 0 else ' '} {i + 1}. {label}" for i, label in enumerate(OPTIONS)]
        app: Application[str] = Application(
            layout=Layout(Window(FormattedTextControl(box(lines)))),
            key_bindings=bindings,
            erase_when_done=True,  # answered, the dialog goes, as Claude Code's does
        )
        return app.run()

    def record(self, item: dict[str, str]) -> None:
        """Append ``item`` to the output file."""
        self.out.write(json.dumps(item, ensure_ascii=True) + "\n")
        self.out.flush()

    def _announce_ready(self) -> None:
        if self.ready is None or self.ready.exists():
            return
        partial = self.ready.with_name(self.ready.name + ".part")
        partial.write_text(str(os.getpid()), encoding="utf-8")
        partial.replace(self.ready)


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run the program."""
    parser = argparse.ArgumentParser(description="An agent-like terminal program.")
    parser.add_argument("outfile", type=Path, help="append keys and commands here (JSON lines)")
    parser.add_argument("--ready", type=Path, help="written once the first prompt is drawn")
    args = parser.parse_args(argv)
    with args.outfile.open("a", encoding="utf-8") as out:
        AgentTerm(out, args.ready).run()


if __name__ == "__main__":
    main()
