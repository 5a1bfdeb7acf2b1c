"""Named reads of the permission prompts that other features share."""

from __future__ import annotations

from core.agent_state import Signal
from core.dialogs.permissions import Prompt, _row
from core.dialogs.prompt_queries import COLUMNS, prompt_row
from core.store.conn import Conn, sql

BY_SESSION = sql(
    f"SELECT {COLUMNS} FROM agent_prompts WHERE agent = :agent AND source = :source AND "
    "session = :session ORDER BY id DESC LIMIT 1"
)


def by_session(conn: Conn, agent: str, source: Signal, session: str) -> Prompt | None:
    """``agent``'s prompt from ``source`` with ``session`` (a protocol request's id), open,
    decided or closed; None when there is none."""
    row = prompt_row(
        conn.execute(
            BY_SESSION, {"agent": agent, "source": source.value, "session": session}
        ).fetchone()
    )
    return None if row is None else _row(row)
