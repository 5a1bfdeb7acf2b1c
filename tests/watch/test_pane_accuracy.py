"""State accuracy over the saved real panes (issue 38, item 9): every real pane of the
pinned CLIs is labelled with what it shows, and what swarm reads on it differs from the
label exactly where a known misreading says (a CLI version that changes its screens, or a
rule that changes, makes this fail by name)."""

from __future__ import annotations

from bench.pane_accuracy import figures, readings
from tests.watch.pane_labels import LABELS, real_panes

# Gemini CLI 0.61 retries a per-minute 429 behind its "Thinking..." spinner, for minutes,
# with no line saying so (no setting shows it: docs/agents.md). (Codex 0.169's streaming
# answer read idle until its turn rule: a prompt with no "Worked for" below it.)
KNOWN_MISREADS = [
    "gemini/limit-429-minute: limited read working",
]
# without the agent's cli, another file's working rule sees Claude Code's footer first
WITHOUT_CLI = [
    "claude-code/limit-429-retrying: limited read working",
    "claude-code/overload-529-retrying: limited read working",
    "claude-code/stall-waiting-for-api: errored read working",
    "codex/busy-reconnecting: limited read working",
    "codex/busy-reconnecting-3: limited read working",
    "codex/reconnecting: errored read working",
    "codex/reconnecting-stream: errored read working",
]


def test_every_real_pane_is_labelled() -> None:
    for cli, labels in LABELS.items():
        assert sorted(real_panes(cli)) == sorted(labels), cli


def test_what_swarm_reads_differs_from_the_labels_only_where_known() -> None:
    known = figures(readings(with_cli=True))
    assert known["misread"] == KNOWN_MISREADS
    assert known["waiting_recall"] == "20 of 20"
    unknown = figures(readings(with_cli=False))
    assert unknown["misread"] == sorted(WITHOUT_CLI + KNOWN_MISREADS)


def test_the_live_benchs_figures_count_what_they_say() -> None:
    """``bench/live_accuracy.py``'s summary (its runs need the five real CLIs: see
    docs/performance.md): waiting recall over the looks whose truth is waiting, false idle
    over the looks read idle, each misread counted once with its evidence."""
    from bench.live_accuracy import summary

    seen = [
        ("dialog", "waiting", "waiting", "text: 'Do you want to proceed?'"),
        ("dialog", "waiting", "working", "text: 'esc to interrupt'"),
        ("streaming", "working", "idle", "text: 'diff> stream it slowly'"),
        ("streaming", "working", "idle", "text: 'diff> stream it slowly'"),
        ("start", "idle", "idle", "text: 'diff>'"),
    ]
    got = summary("aider", seen)
    assert (got["looks"], got["right"]) == (5, 2)
    assert (got["waiting_recall"], got["false_idle"]) == ("1 of 2", "2 of 3")
    assert got["matrix"] == {"idle -> idle": 1, "waiting -> waiting": 1,
                             "waiting -> working": 1, "working -> idle": 2}  # fmt: skip
    assert got["misread"] == {
        "streaming: working read idle (text: 'diff> stream it slowly')": 2,
        "dialog: waiting read working (text: 'esc to interrupt')": 1,
    }
