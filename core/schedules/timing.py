"""Time for schedules: standard cron expressions (local time) and intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from core.errors import InvalidInput

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class InvalidSchedule(InvalidInput):
    """A schedule that cannot be kept: bad cron expression, interval, target or text."""


def span(seconds: float) -> str:
    """``90 s``, ``30m``, ``12h`` or ``1d``: the largest unit that divides it."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g} s"


def parse_every(text: str) -> float:
    """An interval or an age: seconds (``3600``, ``20s``) or a number and m, h, d or w
    (``30m``, ``2h``)."""
    raw = text.strip()
    seconds = raw[:-1].rstrip() if raw[-1:].lower() == "s" else raw
    if seconds.replace(".", "", 1).isdigit():
        return float(seconds)
    from core.reports.summary import PERIOD, parse_period

    if not PERIOD.match(text or ""):
        raise InvalidInput(
            f"invalid period {text!r}: use seconds (90 or 20s) or a number and m, h, d or w "
            "(e.g. 30m, 1d)"
        )
    return parse_period(text)


def local_zone() -> tzinfo:
    """The machine's time zone (``TZ`` is honoured): cron expressions are local time."""
    import tzlocal

    return tzlocal.get_localzone()


def cron_trigger(expr: str, zone: tzinfo | None = None) -> CronTrigger:
    """A trigger for a standard 5-field crontab line; InvalidSchedule with the reason."""
    from apscheduler.triggers.cron import CronTrigger

    fields = (expr or "").split()
    try:
        if len(fields) != 5:
            raise ValueError(
                f"wrong number of fields: got {len(fields)}, expected 5 "
                "(minute hour day month weekday)"
            )
        fields[4] = _weekdays(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=zone or local_zone())
    except ValueError as exc:
        raise InvalidSchedule(f"invalid cron expression {expr!r}: {exc}") from None


def _weekdays(field: str) -> str:
    """Standard cron weekday numbers (0 or 7 = Sunday) as names APScheduler 3 reads right.

    APScheduler 3 counts 0 as Monday; names mean the same in both, so numbers become names.
    """
    if any(c.isalpha() for c in field) or field == "*":
        return field
    days: set[int] = set()
    for item in field.split(","):
        base, _, step = item.partition("/")
        low, _, high = base.partition("-")
        first = 0 if base == "*" else int(low)
        last = 6 if base == "*" or (step and not high) else int(high or low)
        if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last):
            raise ValueError(f"weekday {item!r} must be within 0-7 (0 and 7 are Sunday)")
        days.update(d % 7 for d in range(first, last + 1, int(step or 1)))
    return ",".join(WEEKDAYS[d] for d in sorted(days))


def next_run(cron: str | None, every_s: float | None, after: float, zone: tzinfo) -> float:
    """The first run strictly after ``after`` (epoch seconds)."""
    if every_s:
        return after + every_s
    trigger = cron_trigger(cron or "", zone)
    start = datetime.fromtimestamp(after, UTC) + timedelta(seconds=1)
    fire = trigger.get_next_fire_time(None, start)
    if fire is None:
        raise InvalidSchedule(f"cron expression {cron!r} never fires again")
    return float(fire.timestamp())
