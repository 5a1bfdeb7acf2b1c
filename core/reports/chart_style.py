"""What the charts share, the PNG of ``swarm stats --png`` and the dashboard's SVG: one colour
per series (done is always the same green, failed the same red, and no other series is red),
axis ticks at round values (whole numbers for counts) and a time axis of local hours."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

COLOURS = {
    "done": "#57f287",
    "failed": "#ed4245",
    "cancelled": "#949ba4",  # what else happened to tasks (core.reports.counts)
    "reopened": "#fee75c",
    "requeued": "#eb459e",
    "delivery failed": "#f0b232",
    "time": "#5865f2",  # durations (median time to done)
    "p50": "#8ab4f8",  # delivery latency percentiles: one blue-violet family, light to dark
    "p90": "#5865f2",
    "p99": "#b07bff",
}
OTHER_COLOURS = ("#fee75c", "#3ba55d", "#eb459e")  # series not named above, in turn
HOUR_STEPS = (1, 2, 3, 6, 12, 24)  # hours between two labels of a time axis


def colour(name: str, index: int = 0) -> str:
    """The colour of the series ``name`` (the ``index``-th otherwise unnamed series)."""
    return COLOURS.get(name) or OTHER_COLOURS[index % len(OTHER_COLOURS)]


def ticks(top: float, whole: bool, most: int = 5) -> list[float]:
    """Round values from 0 to at least ``top``, at most about ``most`` of them; ``whole``:
    whole numbers only (a count never has a tick at 0.5)."""
    top = top if top > 0 else 1.0
    rough = top / (most - 1)
    size = 10 ** math.floor(math.log10(rough))
    step = next(m * size for m in (1, 2, 2.5, 5, 10) if m * size >= rough * 0.999)
    if whole:
        step = float(max(1, math.ceil(step)))
    count = math.ceil(top / step - 1e-9)
    return [round(k * step, 10) for k in range(count + 1)]


def tick_text(value: float, unit: str = "") -> str:
    """``3``, ``0.25 s``: a tick's value as it is shown."""
    text = f"{value:g}" if value != int(value) else str(int(value))
    return f"{text} {unit}" if unit else text


def hour_labels(starts: Sequence[float], most: int = 12) -> list[str]:
    """Labels of a time axis with one place per hour (``starts``: epoch seconds of each
    hour): ``14:00`` every few hours (at most ``most`` labels), with the day under the first
    label and under each midnight (``14:00\\nMon 13``); ``""`` where no label is shown."""
    step = next((s for s in HOUR_STEPS if len(starts) / s <= most), HOUR_STEPS[-1])
    labels, dated = [], False
    for start in starts:
        local = time.localtime(start)
        if local.tm_hour % step:
            labels.append("")
            continue
        text = time.strftime("%H:00", local)
        if not dated or local.tm_hour == 0:
            text += "\n" + time.strftime("%a %d", local)
            dated = True
        labels.append(text)
    return labels
