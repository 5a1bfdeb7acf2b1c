"""A stop whose one key did not take, on a CLI that quits at a second key too soon (issue 79,
item 2). Aider 0.86.2 quits at a second Ctrl+C within 2 s of the last; once in ~20 loaded
runs it printed "^C again to exit" and went on waiting for its model. A program in a real
tmux pane does what Aider did then, under Aider's own rules: swarm's stop presses Ctrl+C
once more, past the 2 s, and the turn stops; the program is not quit. Before: "its pane
does not read idle 5 s after", the turn going on."""

from __future__ import annotations

from pathlib import Path

from automation.tmux.interrupt import AGAIN_AFTER_S, Outcome
from core.clis import by_name
from tests.automation.test_tmux_interrupt_armed import stopped_in_pane

STUBBORN_TUI = r"""
import signal, sys, time

seen = []


def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def on_interrupt(_signal, _frame):
    now = time.monotonic()
    if seen and now - seen[-1] < 2:
        out("\r\n^C KeyboardInterrupt\r\n")
        sys.exit(0)
    seen.append(now)
    out("\r\n^C again to exit\r\n")
    if len(seen) == 1:  # the first did not take: it goes on waiting for its model
        out("       ░█  Waiting for openai/local-model\r\n")
    else:
        out("gap %.1f\r\n> " % (seen[-1] - seen[0]))


signal.signal(signal.SIGINT, on_interrupt)
out("> think in silence\r\n       ░█  Waiting for openai/local-model\r\n")
while True:
    time.sleep(0.1)
"""


async def test_a_ctrl_c_that_did_not_take_is_pressed_again_past_the_quit_window(
    tmp_path: Path,
) -> None:
    cli = by_name("aider")
    assert cli is not None and cli.interrupt == ("ctrl+c",) and cli.interrupt_quits_s == 2.0
    done, lines = await stopped_in_pane(tmp_path, STUBBORN_TUI, "", "aider", "Waiting for", "gap ")
    shown = "\n".join(lines)
    assert done.outcome is Outcome.IDLE, (done.outcome, shown)
    assert "KeyboardInterrupt" not in shown, shown  # never quit
    gap = float(shown.split("gap ")[1].split()[0])
    assert gap >= cli.interrupt_quits_s + AGAIN_AFTER_S - 0.2, shown
