"""opencode's stored sessions: each turn's usage and cost (the tmux and desktop routes).

opencode 1.18.33 keeps every workspace's sessions in one SQLite database,
``<data dir>/opencode/opencode.db`` (the data dir: ``$XDG_DATA_HOME``, else
``~/.local/share``; no ``storage/`` folder of JSON files any more): a ``session`` row names the
``directory`` it ran in; each ``message`` row's ``data`` is JSON, an answer's with ``role``
``assistant``, ``parentID`` (the prompt's message), ``tokens`` (``input``, ``output``,
``reasoning``, ``cache.read``, ``cache.write``), ``cost`` in dollars, ``modelID``, ``finish``
and ``time.completed``. A turn is a prompt's answers (one per model call: a tool call's ends
``finish = "tool-calls"``); it ends at a completed answer that ends otherwise, and began at
its first answer's ``time.created`` (ms). Its tokens are
its answers' summed, output with reasoning; its cost theirs, unknown when opencode said 0
(measured: a model without a price in its config, such as the test model server's, costs
0, which is no price).

A stopped turn is not read whole: measured with 1.18.33 against localmodel (Chat
Completions), a stop (Escape twice) ends the running answer at once as an answer row with
``error.name = "MessageAbortedError"``, no ``finish`` and every token 0, written at the stop
and never changed after: the stream's usage (its last chunk) never came, though the model
was asked (an API bills the input it read). Such a turn's usage is given as none (an empty
``usage``: unknown), never its other answers' sum. Nor does the database hold a session's
title request (a request of its own at its first prompt, no tools offered): no row counts it.

The database is opened read-only for each read (opencode writes it all the while, in WAL
mode); a read takes the message rows changed since the newest one it saw.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.clis.base import UsageTurn
from core.privacy.files import NotPlain, read_plain

log = logging.getLogger(__name__)
NAME = "opencode.db"
MAX_ROWS = 2000  # message rows read at once; the rest at the next read
ROW_BYTES = 1 << 20  # a longer message row is no answer's: skipped
QUERY_STEPS = 50_000_000  # SQLite virtual machine steps a read may take (~1 s)
ABORTED = "MessageAbortedError"  # an answer's error when a stop ended it
_CHANGED = (
    "SELECT m.id, m.session_id, m.time_updated, m.data FROM message AS m "
    "JOIN session AS s ON s.id = m.session_id "
    "WHERE s.directory = ? AND m.time_updated >= ? AND length(m.data) <= ? "
    "ORDER BY m.time_updated, m.id LIMIT ?"
)


def data_dir(data_home: Path, cwd: str) -> Path:
    """The folder of opencode's database (every workspace's sessions)."""
    return data_home / "opencode"


def reader(path: Path, cwd: str) -> DatabaseReader:
    """The reader of ``cwd``'s turns in opencode's database at ``path``."""
    return DatabaseReader(path, cwd)


@dataclass
class DatabaseReader:
    """Reads ``cwd``'s turns from opencode's database from where it stopped (the newest
    ``time_updated`` seen); the turns ended since, each once."""

    path: Path
    cwd: str
    since: int = 0  # the newest time_updated read (ms)
    answers: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # prompt ->
    ended: set[str] = field(default_factory=set)  # the refs given
    prompts: dict[str, str] = field(default_factory=dict)  # an open turn's prompt -> session
    refused: str | None = None  # why the last read was refused (None: it read)

    def read(self) -> list[UsageTurn]:
        """The turns whose last answer was completed since the last read."""
        turns = []
        for message_id, session, updated, raw in self._changed():
            self.since = max(self.since, updated)
            answer = _answer(raw)
            if answer is None:
                continue
            prompt = str(answer["parentID"])
            if f"opencode:{session}:{prompt}" in self.ended:  # read again: the same ms
                continue
            turns += self._superseded(session, prompt)
            self.answers.setdefault(prompt, {})[message_id] = answer
            self.prompts[prompt] = session
            if _ends_turn(answer):
                turns.append(self._turn(session, prompt))
        return turns

    def _superseded(self, session: str, prompt: str) -> list[UsageTurn]:
        """The turns of ``session``'s earlier prompts still open when an answer to ``prompt``
        comes: over, though no answer ended them (measured with 1.18.33: a prompt typed
        while a tool call ran is answered next, the tool's result with it, and the earlier
        prompt gets no closing answer)."""
        open_before = [p for p, s in self.prompts.items() if s == session and p != prompt]
        return [self._turn(session, earlier) for earlier in open_before]

    def _changed(self) -> list[tuple[str, str, int, str]]:
        uri = f"{self.path.absolute().as_uri()}?mode=ro"
        try:
            _require_regular(self.path)
            with closing(sqlite3.connect(uri, uri=True, timeout=1.0)) as db:
                _bounded(db)
                args = (self.cwd, self.since, ROW_BYTES, MAX_ROWS)
                found = _rows(db.execute, _CHANGED, args)
        except Refused as exc:  # the agent's doing, or a file of no shape opencode writes
            if self.refused is None:
                log.warning("opencode's database %s is not read: %s", self.path, exc)
            self.refused = str(exc)
            return []
        except (sqlite3.Error, OSError) as exc:  # busy, being written: the next look reads
            log.debug("%s cannot be read: %s", self.path, exc)
            return []
        self.refused = None
        return [
            (str(r[0]), str(r[1]), r[2], r[3])
            for r in found
            if isinstance(r[2], int) and isinstance(r[3], str)
        ]

    def _turn(self, session: str, prompt: str) -> UsageTurn:
        ref = f"opencode:{session}:{prompt}"
        self.ended.add(ref)
        self.prompts.pop(prompt, None)
        answers = list(self.answers.pop(prompt).values())
        usage = dict.fromkeys(("input_tokens", "output_tokens", "cache_read_input_tokens",
                               "cache_creation_input_tokens"), 0)  # fmt: skip
        costs: list[float] = []
        for answer in answers:
            tokens = answer["tokens"]
            cache = tokens.get("cache") if isinstance(tokens.get("cache"), dict) else {}
            usage["input_tokens"] += _count(tokens.get("input"))
            usage["output_tokens"] += _count(tokens.get("output")) + _count(tokens.get("reasoning"))
            usage["cache_read_input_tokens"] += _count(cache.get("read"))
            usage["cache_creation_input_tokens"] += _count(cache.get("write"))
            cost = answer.get("cost")
            if isinstance(cost, int | float) and not isinstance(cost, bool) and cost > 0:
                costs.append(float(cost))
        model = answers[-1].get("modelID")
        created = [when for answer in answers if (when := _created(answer)) is not None]
        whole = not any(_aborted(answer) for answer in answers)
        cost = sum(costs) if whole and len(costs) == len(answers) else None
        return UsageTurn(ref, session, model if isinstance(model, str) else None,
                         usage if whole else {}, cost,
                         min(created) if created else None)  # fmt: skip


def _answer(raw: str) -> dict[str, Any] | None:
    """A message row's JSON if it is an answer with tokens, else None."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("role") != "assistant":
        return None
    if not isinstance(data.get("tokens"), dict) or not isinstance(data.get("parentID"), str):
        return None
    return data


def _created(answer: dict[str, Any]) -> float | None:
    """When an answer was begun (its ``time.created``, ms), in seconds, or None."""
    time = answer.get("time")
    created = time.get("created") if isinstance(time, dict) else None
    if isinstance(created, bool) or not isinstance(created, int | float) or created < 0:
        return None
    return created / 1000 if math.isfinite(created) else None


def _aborted(answer: dict[str, Any]) -> bool:
    """Whether opencode aborted the answer (a stop): its usage never came."""
    error = answer.get("error")
    return isinstance(error, dict) and error.get("name") == ABORTED


def _ends_turn(answer: dict[str, Any]) -> bool:
    time = answer.get("time")
    done = isinstance(time, dict) and isinstance(time.get("completed"), int | float)
    return done and answer.get("finish") != "tool-calls"


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class Refused(Exception):
    """The database is not read: not a regular file, not opencode's tables, or a read past
    ``QUERY_STEPS``."""


def _require_regular(path: Path) -> None:
    """Refused unless ``path`` is a regular file reached without a link (FileNotFoundError
    when there is none yet): the database is in the agent's CLI state (a sandboxed agent's
    own copy, its to write), and a FIFO there would hold the reader for good (SQLite itself
    refuses a FIFO or link as its ``-wal`` or ``-shm``)."""
    try:
        read_plain(path, 0)
    except NotPlain as exc:
        raise Refused(exc.strerror) from None


def _bounded(db: sqlite3.Connection) -> None:
    """The reading made safe against a database the agent wrote: no function of its
    schema's runs but SQLite's innocuous ones, ``message`` and ``session`` must be plain
    tables (a view over an endless recursive query held the reader for good), and a query
    past ``QUERY_STEPS`` virtual machine steps is interrupted."""
    db.execute("PRAGMA trusted_schema = OFF")
    steps = iter(range(QUERY_STEPS // 1000))
    db.set_progress_handler(lambda: next(steps, None) is None, 1000)
    rows = db.execute(
        "SELECT name, type, sql FROM sqlite_master WHERE name IN ('message', 'session')"
    ).fetchall()
    plain = {
        name for name, kind, sql in rows
        if kind == "table" and str(sql or "").upper().startswith("CREATE TABLE")
    }  # fmt: skip
    if plain != {"message", "session"}:
        raise Refused("its message and session are not both plain tables")


def _rows(run: Any, query: str, args: tuple[Any, ...]) -> list[Any]:
    """The rows of ``query``; Refused when it ran past ``QUERY_STEPS`` (interrupted)."""
    try:
        return list(run(query, args).fetchall())
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise Refused(f"a read ran past {QUERY_STEPS:,} steps and was stopped") from None
        raise
