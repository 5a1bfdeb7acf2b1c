"""Issue 28, item 8: what the dashboard's charts and ``swarm stats --png`` share."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from core.reports.chart_style import colour, hour_labels, tick_text, ticks


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC for the test."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_counts_get_whole_ticks_and_durations_round_ones() -> None:
    assert ticks(1, whole=True) == [0, 1]  # never 0.25, 0.5, 0.75 tasks
    assert ticks(0, whole=True) == [0, 1]
    assert ticks(7, whole=True) == [0, 2, 4, 6, 8]
    assert ticks(13, whole=True) == [0, 5, 10, 15]
    assert ticks(0.37, whole=False) == [0, 0.1, 0.2, 0.3, 0.4]
    assert [tick_text(v, "s") for v in ticks(0.01, whole=False)][-2:] == ["0.0075 s", "0.01 s"]


def test_series_colours_are_distinct_where_it_matters() -> None:
    assert colour("p90") not in (colour("failed"), colour("done"))
    assert len({colour(s) for s in ("done", "failed", "p50", "p90", "p99")}) == 5


def test_the_time_axis_labels_a_few_hours_and_each_day(utc: None) -> None:
    day = 86400 * 20000  # a midnight (UTC)
    one_day = [day - 6 * 3600 + h * 3600 for h in range(25)]  # 18:00 to 18:00
    labels = hour_labels(one_day)
    shown = [label for label in labels if label]
    assert len(shown) <= 12 and shown[0].startswith("18:00\n")
    assert labels[6] == "00:00\n" + time.strftime("%a %d", time.gmtime(day))
    week = [day + h * 3600 for h in range(24 * 7 + 1)]
    shown = [label for label in hour_labels(week) if label]
    assert len(shown) == 8 and all(label.startswith("00:00\n") for label in shown)
