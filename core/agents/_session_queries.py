"""The sessions an agent's own hooks named (``cli_sessions``): its CLI's session files on the
tmux and desktop routes are charged to it from those sessions only, once it named any
(``core.watch.usage_files``). Each is one named operation."""

from __future__ import annotations

from core.store.conn import Conn, sql

SESSION_LIMIT = 200  # characters of a session id kept (a hook's JSON is the agent's words)
KEPT_S = 30 * 86400.0  # an agent's sessions named longer ago are forgotten when it names one

INSERT = sql(
    "INSERT INTO cli_sessions (agent_id, session, seen_at) VALUES (:agent, :session, :at) "
    "ON CONFLICT (agent_id, session) DO NOTHING"
)
FORGET_BEFORE = sql("DELETE FROM cli_sessions WHERE agent_id = :agent AND seen_at < :before")


def name(conn: Conn, agent: str, session: str, at: float) -> None:
    """``agent``'s hook named ``session`` at ``at``: kept (once), and the agent's sessions
    named more than ``KEPT_S`` before forgotten when it is new."""
    added = conn.execute(INSERT, {"agent": agent, "session": session[:SESSION_LIMIT], "at": at})
    if added.rowcount:
        conn.execute(FORGET_BEFORE, {"agent": agent, "before": at - KEPT_S})


def named(conn: Conn) -> dict[str, set[str]]:
    """Each agent's sessions its hooks named."""
    found: dict[str, set[str]] = {}
    for row in conn.execute("SELECT agent_id, session FROM cli_sessions"):
        found.setdefault(row["agent_id"], set()).add(row["session"])
    return found
