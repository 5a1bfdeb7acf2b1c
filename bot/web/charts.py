"""Charts as inline SVG made on the server (no script, no CDN): grouped bars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 44, 46, 14
COLOURS = ("#3fb950", "#f85149", "#58a6ff", "#d29922")


@dataclass(frozen=True)
class Series:
    """One coloured series: a name and one value per label."""

    name: str
    values: Sequence[float]


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> str:
    """Grouped bars, one group per label, with a legend and a y scale (an ``<svg>``)."""
    top = max((v for s in series for v in s.values), default=0.0) or 1.0
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    group_w = plot_w / max(1, len(labels))
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    parts += _scale(top, plot_w, plot_h, unit)
    for i, label in enumerate(labels):
        x0 = LEFT + i * group_w + group_w * 0.1
        for j, s in enumerate(series):
            value = s.values[i]
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                f"<title>{escape(label)} {escape(s.name)}: {_number(value)}{unit}</title></rect>"
            )
        if len(labels) <= 24:
            parts.append(
                f'<text x="{x0 + group_w * 0.4:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                f'class="label" text-anchor="middle">{escape(label)}</text>'
            )
    parts += _legend(series)
    parts.append("</svg>")
    return "".join(parts)


def _scale(top: float, plot_w: float, plot_h: float, unit: str) -> list[str]:
    parts = []
    for k in range(5):
        value = top * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w:.0f}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" class="label" '
            f'text-anchor="end">{_number(value)}{unit}</text>'
        )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    for j, s in enumerate(series):
        x = LEFT + j * 120
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 16}" width="10" height="10" '
            f'fill="{COLOURS[j % len(COLOURS)]}"/>'
        )
        parts.append(f'<text x="{x + 14}" y="{HEIGHT - 7}" class="label">{escape(s.name)}</text>')
    return parts


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2g}"
