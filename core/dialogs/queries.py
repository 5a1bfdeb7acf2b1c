"""Named reads of the permission prompts that other features share."""

from __future__ import annotations

from core.agent_state import Signal
from core.dialogs.permissions import Prompt, _row
from core.dialogs.prompt_queries import COLUMNS
from core.store.conn import Conn


def by_session(conn: Conn, agent: str, source: Signal, session: str) -> Prompt | None:
    """``agent``'s prompt from ``source`` with ``session`` (a protocol request's id), open,
    decided or closed; None when there is none."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM agent_prompts WHERE agent = $1 AND source = $2 AND session = $3 "
        "ORDER BY id DESC LIMIT 1",
        (agent, source.value, session),
    ).fetchone()
    return None if row is None else _row(row)
