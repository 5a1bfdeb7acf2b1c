"""Accuracy of the screen signal on the recorded frames: the old rule against the new one.

Run: ``.venv/bin/python bench/screen_accuracy.py [--data tests/data/screen] [--json]``.
The frames were recorded from real windows by ``bench/screen_record.py`` (10 a second). Each
scenario is replayed at watch intervals of 0.3-2 s, from every start phase (0.1 s apart),
so a caret is seen at every phase of its blink. Rules:

- ``old``: ``frames_differ`` (2 thumbnail pixels moved: a change), the rule before issue 24;
- ``new, next look``: ``ScreenJudge`` without rechecks (a small change is settled by the
  next look);
- ``new``: ``ScreenJudge`` with the watcher's rechecks (a small change is grabbed again
  every 0.1 s, up to 1.2 s, from the recorded frames that follow it).

False activity: looks of ``still`` scenarios (nothing moves but a caret) counted as
activity. Missed activity: looks of ``active`` scenarios whose frame differs from the
previous look's (something visibly changed) not counted as activity. ``working`` rows: the
same for the state (old: a change is working; new: the two-look hysteresis), missed counted
after each replay's first two looks.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from PIL import Image  # noqa: E402

from core.agents import (  # noqa: E402
    RECHECK_S,
    SMALL,
    WORKING,
    ScreenJudge,
    frames_differ,
)
from core.models import Agent  # noqa: E402

INTERVALS = (0.3, 0.5, 0.7, 1.0, 1.3, 2.0)
RULES = ("old", "new, next look", "new")


@dataclass
class Recording:
    """One recorded scenario: its frames at each 0.1 s step."""

    name: str
    truth: str
    region: tuple[int, int]
    step_s: float
    frames: list[bytes]

    def agent(self) -> Agent:
        """An agent whose watched region is the recorded one."""
        return Agent(self.name, "screen", watch=(0, 0, *self.region))


@dataclass
class Tally:
    """Counts of one rule: looks judged, and those judged wrongly."""

    still: int = 0
    false_activity: int = 0
    visible: int = 0
    missed: int = 0
    still_states: int = 0
    false_working: int = 0
    active_states: int = 0
    missed_working: int = 0
    by_scenario: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def rates(self) -> dict[str, float]:
        """The four rates, in percent."""
        return {
            "false_activity_pct": _pct(self.false_activity, self.still),
            "missed_activity_pct": _pct(self.missed, self.visible),
            "false_working_pct": _pct(self.false_working, self.still_states),
            "missed_working_pct": _pct(self.missed_working, self.active_states),
        }


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def load(data: Path) -> list[Recording]:
    """Every recording of ``data``'s manifest."""
    recordings = []
    for line in (data / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        width, height = entry["size"]
        strip = Image.open(data / f"{entry['name']}.png").convert("L")
        count = strip.height // height
        distinct = [
            strip.crop((0, i * height, width, (i + 1) * height)).tobytes() for i in range(count)
        ]
        frames = [distinct[i] for i in entry["steps"]]
        region = (entry["region"][0], entry["region"][1])
        recordings.append(Recording(entry["name"], entry["truth"], region, entry["step_s"], frames))
    return recordings


def replay(rec: Recording, rule: str, every: int, start: int) -> list[tuple[bool, bool, bool]]:
    """The looks of one replay: (visibly changed, judged activity, judged working) each."""
    judge, agent = ScreenJudge(), rec.agent()
    recheck_steps = round(RECHECK_S / rec.step_s)
    looks, step, before = [], start, None
    while step < len(rec.frames):
        frame = rec.frames[step]
        if rule == "old":
            active = before is not None and frames_differ(before, frame)
            seen = (before != frame, active, active)
            end = step
        else:
            look = judge.look(agent, frame, step * rec.step_s)
            end = step
            while rule == "new" and look.verdict == SMALL and end + 1 < len(rec.frames):
                end += 1
                last = end - step >= recheck_steps
                settled = judge.recheck(agent, rec.frames[end], end * rec.step_s, last)
                if settled is not None:
                    look = settled
                    break
                if last:
                    break
            if look.verdict == SMALL and rule == "new":
                break  # the recording ended before the recheck could settle it
            seen = (before != frame, look.changed, look.state == WORKING)
        if before is not None:
            looks.append(seen)
        before = frame
        step = max(step + every, end + 1)
    return looks


def measure(recordings: list[Recording]) -> dict[str, Tally]:
    """Every rule over every recording, interval and start phase."""
    tallies = {rule: Tally() for rule in RULES}
    for rec in recordings:
        for interval in INTERVALS:
            every = round(interval / rec.step_s)
            for start in range(every):
                for rule in RULES:
                    _count(tallies[rule], rec, replay(rec, rule, every, start))
    return tallies


def _count(tally: Tally, rec: Recording, looks: list[tuple[bool, bool, bool]]) -> None:
    wrong = tally.by_scenario[rec.name]
    for index, (visible, active, working) in enumerate(looks):
        if rec.truth == "still":
            tally.still += 1
            tally.false_activity += active
            tally.still_states += 1
            tally.false_working += working
            wrong[0] += 1
            wrong[1] += active
        elif visible:
            tally.visible += 1
            tally.missed += not active
            wrong[0] += 1
            wrong[1] += not active
            if index >= 2:
                tally.active_states += 1
                tally.missed_working += not working


def main() -> None:
    """Print the rates of each rule (and per scenario)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "screen")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    recordings = load(args.data)
    tallies = measure(recordings)
    if args.json:
        print(json.dumps({rule: t.rates() for rule, t in tallies.items()}, indent=2))
        return
    still = sum(r.truth == "still" for r in recordings)
    print(f"{len(recordings)} recordings ({still} still, {len(recordings) - still} active), "
          f"intervals {', '.join(f'{i:g}' for i in INTERVALS)} s, every start phase")  # fmt: skip
    print(f"{'rule':<16}{'false activity':>16}{'missed activity':>17}"
          f"{'false working':>15}{'missed working':>16}")  # fmt: skip
    for rule, tally in tallies.items():
        r = tally.rates()
        print(f"{rule:<16}{r['false_activity_pct']:>15.2f}%{r['missed_activity_pct']:>16.2f}%"
              f"{r['false_working_pct']:>14.2f}%{r['missed_working_pct']:>15.2f}%")  # fmt: skip
    print(f"\nwrong looks per scenario (of looks judged): {' / '.join(RULES)}")
    for rec in recordings:
        parts = [tallies[rule].by_scenario[rec.name] for rule in RULES]
        text = " / ".join(f"{w}" for _, w in parts)
        print(f"  {rec.name:<24}{rec.truth:<8}{parts[0][0]:>5} looks  {text}")


if __name__ == "__main__":
    main()
