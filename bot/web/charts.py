"""Charts as inline SVG made on the server (no script, no CDN): grouped bars with a title,
a legend, axis titles, round y ticks (whole numbers for counts) and, for hours, a time axis.
Colours and ticks are those of ``swarm stats --png`` (``core/reports/chart_style.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from core.reports.chart_style import colour, tick_text, ticks

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 960, 320, 70, 16, 46, 70


@dataclass(frozen=True)
class Series:
    """One coloured series: a name and one value per group."""

    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class Axes:
    """What the axes say: their titles, whether values are counts, the unit of values."""

    x_title: str
    y_title: str
    counts: bool = True  # whole-number ticks
    unit: str = ""
    empty: str = "nothing in this period"  # said over a chart without groups or values


def bar_chart(
    title: str,
    groups: Sequence[str],
    series: Sequence[Series],
    axes: Axes,
    tick_labels: Sequence[str] | None = None,
) -> str:
    """Grouped bars, one group per name in ``groups`` (``tick_labels``, when given, are
    shown under the groups instead: ``""`` for none, ``\\n`` for a second line)."""
    scale = ticks(max((v for s in series for v in s.values), default=0.0), axes.counts)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="22" class="title">{escape(title)}</text>',
        *_legend(series),
        *_y_axis(scale, plot_w, plot_h, axes),
        *_bars(groups, series, scale[-1], plot_w, plot_h, axes.unit),
        *_x_labels(tick_labels if tick_labels is not None else groups, plot_w),
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        'class="axis"/>',
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 8}" class="axis-title" '
        f'text-anchor="middle">{escape(axes.x_title)}</text>',
    ]
    if not groups or (axes.counts and not any(v for s in series for v in s.values)):
        parts.append(
            f'<text x="{LEFT + plot_w / 2:.0f}" y="{TOP + plot_h / 2:.0f}" class="label empty" '
            f'text-anchor="middle">{escape(axes.empty)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _bars(
    groups: Sequence[str],
    series: Sequence[Series],
    top: float,
    plot_w: float,
    plot_h: float,
    unit: str,
) -> list[str]:
    group_w = plot_w / max(1, len(groups))
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    parts = []
    for i, group in enumerate(groups):
        x0 = LEFT + i * group_w + group_w * 0.1
        for j, s in enumerate(series):
            value = s.values[i]
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{colour(s.name, j)}" data-series="{escape(s.name)}">'
                f"<title>{escape(group)} {escape(s.name)}: {_value(value, unit)}</title></rect>"
            )
    return parts


def _y_axis(scale: list[float], plot_w: float, plot_h: float, axes: Axes) -> list[str]:
    parts = []
    for value in scale:
        y = TOP + plot_h - plot_h * value / scale[-1]
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w:.0f}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="label tick" '
            f'text-anchor="end">{tick_text(value, axes.unit)}</text>'
        )
    middle = TOP + plot_h / 2
    parts.append(
        f'<text x="16" y="{middle:.0f}" class="axis-title" text-anchor="middle" '
        f'transform="rotate(-90 16 {middle:.0f})">{escape(axes.y_title)}</text>'
    )
    return parts


def _x_labels(labels: Sequence[str], plot_w: float) -> list[str]:
    group_w = plot_w / max(1, len(labels))
    parts = []
    for i, label in enumerate(labels):
        if not label:
            continue
        x = LEFT + i * group_w + group_w / 2
        lines = label.split("\n")
        spans = "".join(
            f'<tspan x="{x:.1f}" dy="{0 if k == 0 else 14}">{escape(line)}</tspan>'
            for k, line in enumerate(lines)
        )
        parts.append(
            f'<text y="{HEIGHT - BOTTOM + 18}" class="label" text-anchor="middle">{spans}</text>'
        )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], WIDTH - RIGHT
    for j, s in reversed(list(enumerate(series))):
        x -= 22 + 8 * len(s.name)
        parts.append(
            f'<rect x="{x}" y="12" width="12" height="12" fill="{colour(s.name, j)}" '
            'class="swatch"/>'
        )
        parts.append(f'<text x="{x + 16}" y="22" class="label">{escape(s.name)}</text>')
    return parts


def _value(value: float, unit: str) -> str:
    shown = f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2g}"
    return f"{shown} {unit}" if unit else shown
