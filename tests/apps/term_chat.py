"""A terminal chat prompt like the agent CLIs people run (Claude Code, Codex CLI, Aider).

Run in a terminal: ``python -m tests.apps.term_chat OUTFILE [--name N] [--ready PATH]``.
Built on prompt_toolkit with its default key bindings (Emacs mode: Ctrl+E end of line,
Ctrl+U kill to line start, ...) and its default bracketed-paste handling, so a multi-line
paste stays in one message. The prompt is multi-line: Enter sends, Escape then Enter (or
Alt+Enter) adds a line. Every sent message is appended to OUTFILE as one JSON line
``{"text": ...}`` (flushed at once) and printed above the prompt. When the first prompt has
been drawn (bracketed paste is on by then), the program writes its pid to the ``--ready``
file.
Ctrl+C clears the input; Ctrl+D on an empty input quits.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.application import get_app
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


def send_bindings() -> KeyBindings:
    """Enter sends the whole input; Escape+Enter inserts a newline."""
    bindings = KeyBindings()

    @bindings.add("enter")
    def _send(event: KeyPressEvent) -> None:
        event.current_buffer.validate_and_handle()

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.newline(copy_margin=False)

    return bindings


class TermChat:
    """The prompt loop: read a message, record it, show it, again."""

    def __init__(self, out: TextIO, name: str, ready: Path | None) -> None:
        self.out = out
        self.name = name
        self.ready = ready
        self.count = 0
        self.session: PromptSession[str] = PromptSession(
            multiline=True, key_bindings=send_bindings(),
            prompt_continuation=lambda width, _line, _wrap: "… ".rjust(width),
        )  # fmt: skip

    def run(self) -> None:
        """Prompt until Ctrl+D on an empty input."""
        print_formatted_text(FormattedText([("bold", f"{self.name}"), ("", " — type a message")]))
        while True:
            try:
                text = self.session.prompt("> ", pre_run=self._announce_ready)
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
            self.record(text)

    def record(self, text: str) -> None:
        """Append ``text`` to the output file and show it in the history."""
        self.out.write(json.dumps({"text": text}, ensure_ascii=True) + "\n")
        self.out.flush()
        self.count += 1
        print_formatted_text(FormattedText([("ansigreen", f"[{self.count}] received "),
                                            ("", f"{len(text)} chars")]))  # fmt: skip

    def _announce_ready(self) -> None:
        if self.ready is None or self.ready.exists():
            return
        app = get_app()
        ready = self.ready

        def written(_app: object) -> None:
            partial = ready.with_name(ready.name + ".part")
            partial.write_text(str(os.getpid()), encoding="utf-8")
            partial.replace(ready)
            app.after_render -= written

        app.after_render += written


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run the prompt."""
    parser = argparse.ArgumentParser(description="A terminal chat prompt (prompt_toolkit).")
    parser.add_argument("outfile", type=Path, help="append each message here as a JSON line")
    parser.add_argument("--name", default="agent", help="shown in the header")
    parser.add_argument("--ready", type=Path, help="written once the first prompt is drawn")
    args = parser.parse_args(argv)
    with args.outfile.open("a", encoding="utf-8") as out:
        TermChat(out, args.name, args.ready).run()


if __name__ == "__main__":
    main()
