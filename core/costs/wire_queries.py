"""Every statement of usage from the wire (``core.costs.wire``): ``reported_usage`` (what a
gateway agent's CLI reported, kept beside the ledger), ``wire_reads`` (how far each agent's
records file was booked, and what was compared), and the ledger's wire turns read back."""

from __future__ import annotations

from typing import Any, NamedTuple

from core.store.conn import Conn, sql, values

SAID_COLUMNS = (
    "at", "ref", "task_id", "agent", "model", "source", "known", "input_tokens",
    "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd",
)  # fmt: skip
ADD_SAID = sql(
    f"INSERT INTO reported_usage ({', '.join(SAID_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in SAID_COLUMNS)}) "
    "ON CONFLICT (ref) DO NOTHING RETURNING id"
)
READ_OF = sql(
    "SELECT file, read_to, wire_compared, said_compared, differed_day, compared_at "
    "FROM wire_reads WHERE agent = :agent"
)
SET_READ = sql(
    "INSERT INTO wire_reads (agent, file, read_to, updated_at) VALUES (:agent, :file, "
    ":read_to, :at) ON CONFLICT (agent) DO UPDATE SET file = excluded.file, read_to = "
    "excluded.read_to, updated_at = excluded.updated_at"
)
SET_COMPARED = sql(
    "UPDATE wire_reads SET wire_compared = :wire, said_compared = :said, differed_day = :day, "
    "compared_at = :at WHERE agent = :agent"
)
_COUNTS = (
    "count(*) AS n, coalesce(max(id), 0) AS last_id, max(at) AS last_at, "
    "coalesce(sum(input_tokens), 0) AS input, coalesce(sum(output_tokens), 0) AS output, "
    "coalesce(sum(cache_read_tokens), 0) AS cache_read, "
    "coalesce(sum(cache_write_tokens), 0) AS cache_write"
)
WIRE_SINCE = sql(
    f"SELECT {_COUNTS}, coalesce(sum(CASE WHEN cost_from = 'no_usage' THEN 1 ELSE 0 END), 0) "
    "AS unknown FROM turn_usage WHERE agent = :agent AND source = :source AND id > :after"
)
SAID_SINCE = sql(
    f"SELECT {_COUNTS}, coalesce(sum(CASE WHEN known = 0 THEN 1 ELSE 0 END), 0) AS unknown "
    "FROM reported_usage WHERE agent = :agent AND id > :after"
)


class WireRead(NamedTuple):
    """How far an agent's records file was booked (``file``: its device and inode), the last
    ledger and reported rows compared, the UTC day a difference was last said, when they
    were last compared (0: never)."""

    file: str
    read_to: int
    wire_compared: int
    said_compared: int
    differed_day: str
    compared_at: float


class Counted(NamedTuple):
    """Rows of one side since the last comparison: how many, the last's id and time, their
    four token counts, how many are of unknown usage."""

    n: int
    last_id: int
    last_at: float | None
    input: int
    output: int
    cache_read: int
    cache_write: int
    unknown: int


def add_said(conn: Conn, row: tuple[Any, ...]) -> bool:
    """A reported turn (``SAID_COLUMNS``' order); False when its ref was kept before."""
    found = conn.execute(ADD_SAID, dict(zip(SAID_COLUMNS, row, strict=True))).fetchone()
    return found is not None


def read_of(conn: Conn, agent: str) -> WireRead | None:
    """How far ``agent``'s records were booked; None: never."""
    row = conn.execute(READ_OF, {"agent": agent}).fetchone()
    if row is None:
        return None
    file, read_to, wire, said, day, at = values(row)
    return WireRead(file, int(read_to), int(wire), int(said), day, float(at))


def set_read(conn: Conn, agent: str, file: str, read_to: int, at: float) -> None:
    """``agent``'s records file ``file`` booked up to byte ``read_to``."""
    conn.execute(SET_READ, {"agent": agent, "file": file, "read_to": read_to, "at": at})


def set_compared(conn: Conn, agent: str, wire: int, said: int, day: str, at: float) -> None:
    """``agent``'s rows compared at ``at`` up to ledger row ``wire`` and reported row
    ``said``; a difference last said on ``day``."""
    said_of = {"agent": agent, "wire": wire, "said": said, "day": day, "at": at}
    conn.execute(SET_COMPARED, said_of)


def _counted(row: Any) -> Counted:
    n, last_id, last_at, given, output, read, written, unknown = values(row)
    at = None if last_at is None else float(last_at)
    return Counted(int(n), int(last_id), at, int(given), int(output), int(read), int(written),
                   int(unknown))  # fmt: skip


def wire_since(conn: Conn, agent: str, source: str, after: int) -> Counted:
    """``agent``'s ledger rows of ``source`` after row ``after``."""
    row = conn.execute(WIRE_SINCE, {"agent": agent, "source": source, "after": after})
    return _counted(row.fetchone())


def said_since(conn: Conn, agent: str, after: int) -> Counted:
    """``agent``'s reported rows after row ``after``."""
    return _counted(conn.execute(SAID_SINCE, {"agent": agent, "after": after}).fetchone())
