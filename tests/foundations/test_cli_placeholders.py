"""What an empty input shows in grey is each CLI's own (``AgentCli.placeholders``, in its
folder): each placeholder is seen on an input line of one of that CLI's saved real panes,
and the pane reader takes such a line as an empty input."""

from __future__ import annotations

import re

from automation.pane_input import PLACEHOLDERS
from core.clis import CLIS

MARKER = re.compile(r"^\W*(?:[a-z-]*>|❯|›|▌)\s?")  # the input line's prompt, after a border


def test_each_placeholder_is_seen_in_its_own_clis_saved_panes() -> None:
    for cli in CLIS:
        lines = [line.strip() for pane in sorted(cli.panes.glob("*.txt"))
                 for line in pane.read_text(encoding="utf-8").splitlines()]  # fmt: skip
        inputs = [MARKER.sub("", line).strip(" │┃") for line in lines]
        for placeholder in cli.placeholders:
            seen = [text for text in inputs if re.fullmatch(placeholder, text)]
            assert seen, f"{cli.name}: {placeholder!r} is on no input line of its panes"
            assert PLACEHOLDERS.match(seen[0]), (cli.name, seen[0])


def test_a_typed_text_is_no_placeholder() -> None:
    for typed in ("Try it", "make test", 'Ask anything "x"', "Type your message"):
        assert not PLACEHOLDERS.match(typed), typed
