"""Reservations that need a reason: an exclusive reservation covering more than
``SWARM_RESERVE_SHARE`` of the repository's files (``**``; ``src/**`` of a small
repository), or one taken with no task and no TTL (it would last until released), waits for
a person's approval as one "Needs you" item (``H-4``, a held item) and blocks no one until
then. Approved, it is made as it was asked, checked against the reservations live at that
moment (an overlap since then leaves it unmade, said on the item); rejected, nothing is made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.context import Ctx
from core.errors import ReservationConflict, TooComplex
from core.models import task_ref
from core.reservations import _queries as rows
from core.reservations import _reserving as reserving
from core.reservations._patterns import matches
from core.store.conn import Conn

SOURCE = "reservations"  # the held item's source
KIND = "wide reservation"
SAMPLE = 20_000  # files of the tree looked at, evenly spread (the share of a huge repository)
# paths of every shape: a pattern matching all of them is the whole tree, whatever its files
PROBES = ("a", "README.md", ".github/ci.yml", "src/main.py", "docs/a/b/c.txt", "x/y/z/w.json")
# hold(conn, ctx, source, kind, key, text, data, task_id, agent) -> its id, None when held before
Hold = Callable[..., int | None]


def share(wanted: Sequence[str], files: Sequence[str]) -> float:
    """The share of ``files`` (the repository's, as git lists them) that some pattern of
    ``wanted`` matches: every file when there are up to ``SAMPLE``, else an even sample."""
    if not files:
        return 0.0
    step = max(1, len(files) // SAMPLE)
    looked = files[::step]
    hit = sum(1 for f in looked if any(matches(p, f) for p in wanted))
    return hit / len(looked)


def reason(
    wanted: Sequence[str],
    ttl_s: float | None,
    task_id: int | None,
    files: Sequence[str] | None,
    limit: float,
) -> str | None:
    """Why an exclusive reserve of ``wanted`` needs a person (None: it does not). ``files``:
    the repository's files, None when unknown (then only a pattern matching every path is
    too wide)."""
    whole = [p for p in wanted if all(matches(p, probe) for probe in PROBES)]
    if whole:
        return f"{whole[0]} covers the whole tree"
    if files:
        covered = share(wanted, files)
        if covered > limit:
            return (
                f"it covers {covered:.0%} of the repository's files, more than "
                f"SWARM_RESERVE_SHARE ({limit:.0%})"
            )
    if task_id is None and ttl_s is None:
        return "it is taken with no task and no TTL (it would last until released)"
    return None


def ask(
    conn: Conn,
    ctx: Ctx,
    hold: Hold,
    agent: str,
    wanted: Sequence[str],
    ttl_s: float | None,
    why: str,
) -> int | None:
    """Hold the request for a person; the item's id (None: the same request waits already,
    or was decided within the hour)."""
    task_id = rows.current_task(conn, agent)
    until = f", for {ttl_s:g} s" if ttl_s is not None else ""
    text = (
        f"{agent} asks to reserve {', '.join(wanted)} exclusive "
        f"({task_ref(task_id) if task_id else 'no task'}{until}): {why}"
    )
    key = f"reserve:{agent}:{'|'.join(wanted)}:{ttl_s}:{int(ctx.now // 3600)}"
    data: dict[str, Any] = {
        "patterns": list(wanted),
        "ttl_s": ttl_s,
        "task_id": task_id,
        "on_accept": f"{agent} holds {', '.join(wanted)} exclusive, if no one took them since",
        "on_reject": "nothing is reserved",
    }
    return hold(conn, ctx, SOURCE, KIND, key, text, data, task_id, agent)


def approved(conn: Conn, ctx: Ctx, agent: str, data: dict[str, Any]) -> str:
    """Make the reservation a person approved (in the transaction that approved it); what
    was done, in one line."""
    wanted = [str(p) for p in data.get("patterns", [])]
    task_id = data.get("task_id")
    if task_id is not None and rows.current_task(conn, agent) != task_id:
        return f"not reserved: {task_ref(task_id)} is no longer {agent}'s"
    ttl_s = data.get("ttl_s")
    try:
        reserving.check_locked(conn, ctx, agent, wanted)
    except (ReservationConflict, TooComplex) as exc:
        return f"not reserved: {exc}"
    made = reserving.made(conn, ctx, agent, wanted, True, ttl_s, task_id)
    return f"reserved {', '.join(r.pattern for r in made)} for {agent}"
