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
    "codex/reconnecting: errored read working",
    "codex/reconnecting-stream: errored read working",
]


def test_every_real_pane_is_labelled() -> None:
    for cli, labels in LABELS.items():
        assert sorted(real_panes(cli)) == sorted(labels), cli


def test_what_swarm_reads_differs_from_the_labels_only_where_known() -> None:
    known = figures(readings(with_cli=True))
    assert known["misread"] == KNOWN_MISREADS
    assert known["waiting_recall"] == "12 of 12"
    unknown = figures(readings(with_cli=False))
    assert unknown["misread"] == sorted(WITHOUT_CLI + KNOWN_MISREADS)
