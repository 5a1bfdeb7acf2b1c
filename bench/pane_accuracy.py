"""State accuracy over the saved real panes: what swarm reads on each pinned CLI's screens
against what each screen shows (``tests/watch/pane_labels.py``).

Run: ``.venv/bin/python bench/pane_accuracy.py [--json]``. Each pane is classified twice:
with its CLI's rule file (an agent whose ``cli`` is known) and with every rule file (one
whose CLI is not). Prints per CLI and in all: the confusion matrix (label → read), the
recall of ``waiting``, the share of screens read ``idle`` that are not, and every misread.
A screen no rule matches reads ``unknown``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from core.agent_state import AgentState  # noqa: E402
from core.agents import classify_any, load_rule_sets  # noqa: E402
from tests.watch.pane_labels import LABELS, real_panes  # noqa: E402


def readings(with_cli: bool) -> list[tuple[str, str, AgentState, AgentState]]:
    """(cli, pane, label, read) for every labelled real pane."""
    rule_sets, _ = load_rule_sets(None)
    now = time.time()
    found = []
    for cli, labels in LABELS.items():
        for name, path in real_panes(cli).items():
            lines = path.read_text(encoding="utf-8").split("\n")
            match = classify_any(rule_sets, lines, now, cli if with_cli else None)
            read = match.state if match is not None else AgentState.UNKNOWN
            found.append((cli, name, labels[name], read))
    return found


def figures(rows: list[tuple[str, str, AgentState, AgentState]]) -> dict[str, object]:
    """The matrix and the two goals' figures of ``rows``."""
    matrix = Counter(f"{label} -> {read}" for _, _, label, read in rows)
    waiting = [read for _, _, label, read in rows if label is AgentState.WAITING]
    read_idle = [label for _, _, label, read in rows if read is AgentState.IDLE]
    return {
        "panes": len(rows),
        "right": sum(label is read for _, _, label, read in rows),
        "waiting_recall": f"{waiting.count(AgentState.WAITING)} of {len(waiting)}",
        "false_idle": f"{sum(x is not AgentState.IDLE for x in read_idle)} of {len(read_idle)}",
        "matrix": dict(sorted(matrix.items())),
        "misread": [
            f"{c}/{n}: {label} read {read}" for c, n, label, read in rows if label is not read
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    shown = {}
    for with_cli in (True, False):
        rows = readings(with_cli)
        key = "cli known" if with_cli else "cli not known"
        shown[key] = {"all": figures(rows)} | {
            cli: figures([r for r in rows if r[0] == cli]) for cli in LABELS
        }
    if args.json:
        print(json.dumps(shown, indent=2))
        return
    for key, per in shown.items():
        print(f"== {key}")
        for cli, got in per.items():
            print(f"{cli:12} {got['right']}/{got['panes']} right, waiting recall "
                  f"{got['waiting_recall']}, false idle {got['false_idle']}")  # fmt: skip
            misread = got["misread"]
            for line in misread if cli == "all" and isinstance(misread, list) else ():
                print(f"    {line}")


if __name__ == "__main__":
    main()
