"""The ``usage`` table: one row per model call, and the sums ``swarm usage`` shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.ai import _queries as queries
from core.privacy.redact import redact_urls
from core.store.conn import Conn

DAY_S = 86_400.0


@dataclass(frozen=True)
class UsageRecord:
    """What one model call used (a failed call has no tokens)."""

    purpose: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    latency_s: float
    attempts: int
    ok: bool
    error: str | None = None
    actor: str = ""


def record_usage(conn: Conn, ts: float, rec: UsageRecord) -> int:
    """Insert one usage row; return its id."""
    return queries.insert(
        conn,
        (
            ts,
            rec.purpose,
            rec.model,
            rec.prompt_tokens,
            rec.completion_tokens,
            rec.cost,
            rec.latency_s,
            rec.attempts,
            int(rec.ok),
            redact_urls(rec.error) if rec.error else None,
            rec.actor,
        ),
    )


def month_start(ts: float) -> float:
    """Midnight UTC on the first day of the month holding ``ts``."""
    when = datetime.fromtimestamp(ts, UTC)
    return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def spent_since(conn: Conn, since: float) -> float:
    """US dollars spent on priced calls since ``since``."""
    return queries.cost_since(conn, since)


def _group(conn: Conn, key: str, name: str, since: float) -> list[dict[str, Any]]:
    return [{name: value, **_sums(sums)} for value, sums in queries.sums_by(conn, key, since)]


def _by_day(conn: Conn, since: float) -> list[dict[str, Any]]:
    """The sums per UTC day, counted here: the day of a timestamp is no function both
    SQLite and PostgreSQL have."""
    days: dict[str, dict[str, Any]] = {}
    latency: dict[str, list[float]] = {}
    rows = queries.call_rows(conn, since)
    for ts, ok, prompt, completion, cost, latency_s in rows:
        day = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
        sums = days.setdefault(
            day,
            dict.fromkeys(("calls", "failed", "prompt_tokens", "completion_tokens", "unpriced"), 0)
            | {"cost": 0.0},
        )
        sums["calls"] += 1
        sums["failed"] += int(not ok)
        sums["prompt_tokens"] += int(prompt or 0)
        sums["completion_tokens"] += int(completion or 0)
        sums["cost"] += float(cost or 0)
        sums["unpriced"] += int(cost is None and bool(ok))
        if latency_s is not None:
            latency.setdefault(day, []).append(float(latency_s))
    out = []
    for day, sums in days.items():
        seen = latency.get(day, [])
        avg = sum(seen) / len(seen) if seen else 0.0
        out.append(
            {"day": day} | sums | {"cost": round(sums["cost"], 6), "avg_latency_s": round(avg, 3)}
        )
    return out


def _sums(sums: queries.Sums) -> dict[str, Any]:
    return sums._asdict() | {
        "cost": round(sums.cost, 6),
        "avg_latency_s": round(sums.avg_latency_s, 3),
    }


def usage_report(conn: Conn, now: float, budget: float | None, days: int = 30) -> dict[str, Any]:
    """Totals of the last ``days`` days per purpose, model and day, and the month's spend."""
    since = now - days * DAY_S
    month = month_start(now)
    spent = spent_since(conn, month)
    total = queries.sums(conn, since)
    return {
        "days": days,
        "month": datetime.fromtimestamp(month, UTC).strftime("%Y-%m"),
        "month_cost": round(spent, 6),
        "budget": budget,
        "remaining": None if budget is None else round(max(0.0, budget - spent), 6),
        "total": _sums(total),
        "by_purpose": _group(conn, "purpose", "purpose", since),
        "by_model": _group(conn, "model", "model", since),
        "by_day": _by_day(conn, since),
    }


def render_usage(report: dict[str, Any]) -> str:
    """The usage report as plain text (tables per purpose, model and day)."""
    budget = report["budget"]
    head = (
        f"AI usage, last {report['days']} days (UTC). This month ({report['month']}): "
        f"${report['month_cost']:.4f}"
    )
    head += f" of ${budget:.2f} budget" if budget is not None else " (no budget set)"
    total = report["total"]
    if not total["calls"]:
        return f"{head}\nno model calls yet"
    lines = [head, f"total: {_line(total)}"]
    for title, name in (("per purpose", "purpose"), ("per model", "model"), ("per day", "day")):
        lines.append(f"{title}:")
        lines += [f"  {row[name]:<14} {_line(row)}" for row in report[f"by_{name}"]]
    return "\n".join(lines)


def _line(row: dict[str, Any]) -> str:
    calls = f"{row['calls']} call{'s' if row['calls'] != 1 else ''}"
    text = (
        f"{calls} ({row['failed']} failed), {row['prompt_tokens']} prompt + "
        f"{row['completion_tokens']} completion tokens, ${row['cost']:.4f}, "
        f"avg {row['avg_latency_s']:.2f} s"
    )
    return text + (f", {row['unpriced']} without a price" if row["unpriced"] else "")
