"""Per-agent numbers over a period, as a text table and as a PNG chart (Pillow).

What happened (done, failed, cancelled, reopened, back in the queue, leases expired, retried,
deliveries) is :func:`core.reports.counts.count`, the count the summary, the dashboard's
charts and campaigns read too; this module adds the failure rate, the median time from
assignment to done, and the stalls seen by the watcher.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.formats.timetext import utc_text
from core.reports import queries
from core.reports.chart_style import colour as series_colour
from core.reports.counts import Counts, count, deliveries_text, tasks_text
from core.reports.summary import parse_period
from core.store.conn import Conn

if TYPE_CHECKING:
    from PIL import ImageDraw

    from core.store.access import StoreAccess

COLUMNS = {  # count -> its column in the table
    "done": "DONE",
    "failed": "FAILED",
    "cancelled": "CANCELLED",
    "reopened": "REOPENED",
    "requeued": "REQUEUED",
    "lease_expired": "LEASE EXP",
    "delivery_failed": "DLV FAILED",
}
NO_AGENT = "(no agent)"  # the row of what happened to no agent
WIDTH, MARGIN, ROW, LABEL_W, TITLE_H = 1000, 20, 28, 110, 92
BACKGROUND, INK, MUTED, GRID = "#2b2d31", "#f2f3f5", "#b5bac1", "#3f4147"
# (title, colour, full-length value: None = the largest value shown)
PANELS = (  # the dashboard's charts use the same colours (core/reports/chart_style.py)
    ("Tasks done", series_colour("done"), None),
    ("Failure rate", series_colour("failed"), 1.0),
    ("Median time to done (min)", series_colour("time"), None),
)


@dataclass(frozen=True)
class AgentStats:
    """One agent's numbers over the period."""

    agent: str
    counts: dict[str, int]  # core.reports.counts.NAMES
    median_minutes: float | None
    stalls: int

    @property
    def done(self) -> int:
        """Tasks it finished done."""
        return self.counts["done"]

    @property
    def failed(self) -> int:
        """Tasks it failed."""
        return self.counts["failed"]

    @property
    def failure_rate(self) -> float | None:
        """Failed / (done + failed); None without finished tasks."""
        finished = self.done + self.failed
        return self.failed / finished if finished else None

    def to_json(self) -> dict[str, Any]:
        """A plain dict."""
        rate = self.failure_rate
        return {
            "agent": self.agent,
            "done": self.done,
            "failed": self.failed,
            "failure_rate": None if rate is None else round(rate, 4),
            "median_minutes_to_done": self.median_minutes,
            "stalls": self.stalls,
            "counts": self.counts,
        }


@dataclass(frozen=True)
class Stats:
    """A period's per-agent numbers."""

    period: str
    since: float
    until: float
    agents: tuple[AgentStats, ...]
    counts: Counts

    @property
    def done(self) -> int:
        """Tasks done by anyone."""
        return self.counts.total["done"]

    @property
    def failed(self) -> int:
        """Tasks failed by anyone."""
        return self.counts.total["failed"]

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output and the bot."""
        return {
            "period": self.period,
            "since": self.since,
            "until": self.until,
            "done": self.done,
            "failed": self.failed,
            "counts": self.counts.total,
            "agents": [a.to_json() for a in self.agents],
        }


def gather(conn: Conn, agent_ids: Iterable[str], period: str, since: float, until: float) -> Stats:
    """The numbers of ``[since, until]`` for the configured agents (and any other that
    finished work in the period)."""
    counts = count(conn, since, until)
    medians = _median_minutes(conn, since, until)
    stalls = _stalls(conn, since, until)
    names = list(agent_ids)
    names += sorted((set(counts.per_agent) | set(medians)) - set(names))
    rows = tuple(
        AgentStats(name, counts.agent(name), medians.get(name), stalls.get(name, 0))
        for name in names
    )
    return Stats(period, since, until, rows + _no_agent(counts), counts)


def _no_agent(counts: Counts) -> tuple[AgentStats, ...]:
    """The row of what happened to no agent (a task failed by the scheduler, its prompt
    never delivered), when anything did: the total is the sum of the rows."""
    left = {
        name: n - sum(c[name] for c in counts.per_agent.values())
        for name, n in counts.total.items()
    }
    if not any(left[name] for name in COLUMNS):
        return ()
    return (AgentStats(NO_AGENT, left, None, 0),)


def _median_minutes(conn: Conn, since: float, until: float) -> dict[str, float]:
    """Per agent: median minutes from (last) assignment to done, of tasks done in the window."""
    spans: dict[str, list[float]] = {}
    for agent, span in queries.done_spans(conn, since, until):
        spans.setdefault(agent, []).append(max(0.0, span))
    return {agent: round(statistics.median(v) / 60, 1) for agent, v in spans.items()}


def _stalls(conn: Conn, since: float, until: float) -> dict[str, int]:
    return dict(queries.stalls_between(conn, since, until))


async def collect(service: StoreAccess, period: str = "7d") -> Stats:
    """The last ``period`` (``30m``, ``12h``, ``7d``, ``1w``; at most 31 days) until now."""
    seconds = parse_period(period)
    until = service.clock.now()
    return await service.read(gather, list(service.agents), period.strip(), until - seconds, until)


# -- text ------------------------------------------------------------------------------


def heading(stats: Stats) -> str:
    """``Swarm stats, last 7d (2026-11-14 12:00 to 2026-11-21 12:00 UTC)``."""
    return f"Swarm stats, last {stats.period} ({_utc(stats.since)} to {_utc(stats.until)} UTC)"


def render_table(stats: Stats) -> str:
    """The numbers as a plain-text table (fits a Discord code block)."""
    header = ("AGENT", *COLUMNS.values(), "FAIL%", "MEDIAN MIN", "STALLS")
    rows = [
        (
            a.agent,
            *(str(a.counts[name]) for name in COLUMNS),
            _percent(a.failure_rate),
            _number(a.median_minutes),
            str(a.stalls),
        )
        for a in stats.agents
    ]
    total_rate = stats.failed / (stats.done + stats.failed) if stats.done + stats.failed else None
    rows.append(
        (
            "total",
            *(str(stats.counts.total[name]) for name in COLUMNS),
            _percent(total_rate),
            "",
            str(sum(a.stalls for a in stats.agents)),
        )
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in [header, *rows]
    ]
    total = stats.counts.total
    tail = [f"tasks: {tasks_text(total)}", f"deliveries: {deliveries_text(total)}"]
    return "\n".join([heading(stats), *lines, *tail])


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.0f}%"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _utc(ts: float) -> str:
    return utc_text(ts, "%Y-%m-%d %H:%M")


# -- chart -----------------------------------------------------------------------------


def render_png(stats: Stats) -> bytes:
    """A bar chart per agent: tasks done, failure rate, median time to done; PNG bytes."""
    from PIL import Image, ImageDraw, ImageFont  # only when a chart is drawn

    height = TITLE_H + ROW * max(1, len(stats.agents)) + 2 * MARGIN + 10
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=15)
    draw.text((MARGIN, MARGIN), heading(stats), fill=INK, font=font)
    draw.text((MARGIN, MARGIN + 22), tasks_text(stats.counts.total), fill=MUTED, font=font)
    panel_w = (WIDTH - 2 * MARGIN - LABEL_W) // len(PANELS)
    columns = _columns(stats)
    for index, ((title, colour, full), bars) in enumerate(zip(PANELS, columns, strict=True)):
        left = MARGIN + LABEL_W + index * panel_w
        draw.text((left, TITLE_H - 22), title, fill=MUTED, font=font)
        _bars(draw, font, (left, panel_w - 16), bars, colour, full)
    for row, agent in enumerate(stats.agents):
        draw.text((MARGIN, _row_top(row) + 5), agent.agent, fill=INK, font=font)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _columns(stats: Stats) -> list[list[tuple[float | None, str]]]:
    """Per panel, per agent: (bar value, label)."""
    return [
        [(a.done, str(a.done)) for a in stats.agents],
        [(a.failure_rate, _percent(a.failure_rate)) for a in stats.agents],
        [(a.median_minutes, _number(a.median_minutes)) for a in stats.agents],
    ]


def _bars(
    draw: ImageDraw.ImageDraw,
    font: Any,
    span: tuple[int, int],
    values: list[tuple[float | None, str]],
    colour: str,
    full: float | None,
) -> None:
    left, width = span
    top_value = full or max((v for v, _ in values if v), default=0) or 1
    room = width - 56  # space for the label after the bar
    for row, (value, label) in enumerate(values):
        top = _row_top(row)
        draw.line((left, top + ROW - 2, left + width, top + ROW - 2), fill=GRID)
        length = round(room * (value or 0) / top_value)
        if length:
            draw.rectangle((left, top + 5, left + length, top + ROW - 7), fill=colour)
        draw.text((left + length + 6, top + 5), label, fill=INK, font=font)


def _row_top(row: int) -> int:
    return TITLE_H + MARGIN + row * ROW - 10
