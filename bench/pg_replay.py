"""pgbench's script of swarm's SQL (``bench/pg_ceiling.py``), replayed from Python by psycopg.

What a client written in Python on psycopg 3 (the driver swarm uses) costs for exactly the
statements swarm sends, with no domain code around them: the bound between pgbench's C
client and swarm. Each client is a process of its own (as a node is), with one connection
set up as the store sets up its own (autocommit, ``RawCursor``, rows as dicts, psycopg's
default of preparing a statement at its 5th execution): a script line is one statement,
its pgbench variables (``:tids``, ``:client_id``, ...) sent as parameters; a ``\\gset``
line's row names variables for the lines after it; a pipeline (the held events, NOTIFY,
COMMIT and the data version) is one string in one round trip, its variables written into
it, as the store sends its COMMIT string. Used by ``pg_ceiling.py --python``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import resource
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

_VARIABLE = re.compile(r"(?<!:):([A-Za-z_]\w*)")  # pgbench's: not a ``::`` cast


@dataclass(frozen=True)
class Line:
    """One round trip of the script: ``sql`` with ``$n`` for ``names`` (a statement), or
    with ``:name`` left in it (``string``: a pipeline sent as one string); ``gset``: its
    row's columns become variables."""

    sql: str
    names: tuple[str, ...]
    gset: bool = False
    string: bool = False


def parse(script: str) -> list[Line]:
    """The script's round trips, in order; SystemExit on a line it does not know."""
    lines: list[Line] = []
    pipeline: list[str] | None = None
    for raw in script.splitlines():
        text = raw.strip()
        if not text or text.startswith("\\set "):
            continue
        if text == "\\startpipeline":
            pipeline = []
        elif text == "\\endpipeline":
            if pipeline is None:
                raise SystemExit("replay: \\endpipeline without \\startpipeline")
            lines.append(Line(" ".join(pipeline), (), string=True))
            pipeline = None
        elif pipeline is not None:
            pipeline.append(text)
        elif text.endswith("\\gset"):
            lines.append(_statement(text.removesuffix("\\gset").strip(), gset=True))
        elif text.endswith(";"):
            lines.append(_statement(text.removesuffix(";")))
        else:
            raise SystemExit(f"replay: a script line it does not know: {text[:80]}")
    return lines


def _statement(text: str, gset: bool = False) -> Line:
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return Line(_VARIABLE.sub(placeholder, text), tuple(names), gset=gset)


def _written_in(sql: str, values: dict[str, str]) -> str:
    """``sql`` with its variables as quoted literals (pgbench's values are text)."""
    return _VARIABLE.sub(lambda m: "'" + values[m.group(1)].replace("'", "''") + "'", sql)


def run_once(conn: psycopg.Connection[Any], lines: list[Line], values: dict[str, str]) -> None:
    """One run of the script on ``conn``."""
    for line in lines:
        if line.string:
            conn.execute(_written_in(line.sql, values).encode(), prepare=False)
            continue
        cursor = conn.execute(line.sql, [values[n] for n in line.names])
        if line.gset:
            row = cursor.fetchone()
            if row is None:
                raise SystemExit(f"replay: no row to \\gset from: {line.sql[:80]}")
            values.update({k: str(v) for k, v in row.items()})


def _client(
    driver: str, url: str, lines: list[Line], client: int, start: float, seconds: float, out: Any
) -> None:
    """One client process: runs of the script for ``seconds`` from ``start`` (wall clock);
    puts (runs, seconds) on ``out``, or (-1, the error)."""
    try:
        runs = (
            _psycopg_runs(url, lines, client, start, seconds)
            if driver == "psycopg"
            else asyncio.run(_asyncpg_runs(url, lines, client, start, seconds))
        )
        out.put((runs, time.time() - start))
    except BaseException as exc:
        out.put((-1, f"{type(exc).__name__}: {exc}"))
        raise


def _psycopg_runs(url: str, lines: list[Line], client: int, start: float, seconds: float) -> int:
    with psycopg.connect(
        url, autocommit=True, row_factory=dict_row, cursor_factory=psycopg.RawCursor
    ) as conn:
        time.sleep(max(0.0, start - time.time()))
        runs = 0
        while time.time() < start + seconds:
            run_once(conn, lines, {"client_id": str(client)})
            runs += 1
        return runs


async def _asyncpg_runs(
    url: str, lines: list[Line], client: int, start: float, seconds: float
) -> int:
    """As ``_psycopg_runs`` with asyncpg: each statement prepared once (its parameters typed
    by the server: arrays and integers converted from pgbench's text)."""
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url)
    try:
        prepared = {line.sql: await conn.prepare(line.sql) for line in lines if not line.string}
        await asyncio.sleep(max(0.0, start - time.time()))
        runs = 0
        while time.time() < start + seconds:
            values = {"client_id": str(client)}
            for line in lines:
                if line.string:
                    await conn.execute(_written_in(line.sql, values))
                    continue
                statement = prepared[line.sql]
                types = statement.get_parameters()
                args = [
                    _typed(values[n], t.kind, t.name)
                    for n, t in zip(line.names, types, strict=True)
                ]
                rows = await statement.fetch(*args)  # every row, as psycopg's execute reads
                if line.gset:
                    if not rows:
                        raise SystemExit(f"replay: no row to \\gset from: {line.sql[:80]}")
                    values.update({k: str(v) for k, v in rows[0].items()})
            runs += 1
        return runs
    finally:
        await conn.close()


def _typed(text: str, kind: str, name: str) -> Any:
    """pgbench's text value as asyncpg wants a parameter of this type."""
    if kind == "array":
        return [int(v) for v in text.strip("{}").split(",") if v]
    if name in ("int2", "int4", "int8"):
        return int(text)
    return text


def replay(
    url: str, script: str, clients: int, seconds: float, per_run: int, driver: str = "psycopg"
) -> dict[str, Any]:
    """``clients`` processes each running ``script`` for ``seconds`` by ``driver`` (psycopg or
    asyncpg): lifecycles/s (``per_run`` a run) and the clients' CPU per lifecycle."""
    lines = parse(script)
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time() + 0.5  # all connected before the clock starts
    procs = [
        context.Process(target=_client, args=(driver, url, lines, k, start, seconds, out))
        for k in range(clients)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    failed = [what for runs, what in results if runs < 0]
    if failed:
        raise SystemExit(f"replay: a client failed: {failed[0]}")
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise SystemExit(f"replay: a client ended with exit code {proc.exitcode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lifecycles = sum(runs for runs, _ in results) * per_run
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {
        "driver": driver,
        "clients": clients,
        "lifecycles": lifecycles,
        "lifecycles_per_s": round(lifecycles / max(s for _, s in results), 1),
        "client_cpu_ms_per_lifecycle": round(cpu * 1000 / max(lifecycles, 1), 3),
    }
