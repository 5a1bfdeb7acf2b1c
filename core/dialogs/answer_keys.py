"""Typing a decided prompt's answer: which decided prompts still wait for their key, the
record that the key is about to be sent (``typing_at``, committed before it is), and the
record that it was typed (once: ``typed_at``), or why it was not.

A prompt seen in an agent's terminal text or on its screen is answered by typing the chosen
option's key into the agent's window (a hook's prompt is answered by the hook itself). Events:
``prompt.typed`` (the key went in; ``data.verified``: the prompt was seen to go away) and
``prompt.not_typed`` (it never will be: the prompt left before, or the driver could not).

A prompt with ``typing_at`` and no ``typed_at`` was being typed when its typist stopped (a
kill, a crash): the key may or may not have gone in, so it is never typed again; the typist
settles it by what the agent's window shows (``core.watch.text_signal``).
"""

from __future__ import annotations

from core.agent_state import Signal
from core.context import Ctx
from core.dialogs.permissions import COLUMNS, Prompt, _row, get_prompt
from core.event_kinds import EventKind
from core.store.conn import Args, Conn
from core.store.tables import insert_event

TYPED_SOURCES = (Signal.TEXT, Signal.SCREEN, Signal.PROTOCOL)  # answered by swarm (keys, or
# a protocol agent's request answered through its host)


def untyped(conn: Conn) -> list[Prompt]:
    """Decided text and screen prompts whose key was not typed yet, oldest decision first."""
    args = Args()
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM agent_prompts WHERE decided_at IS NOT NULL AND typed_at IS NULL "
        f"AND source IN ({args.many(s.value for s in TYPED_SOURCES)}) ORDER BY decided_at, id",
        args,
    ).fetchall()
    return [_row(r) for r in rows]


def typing_state(conn: Conn, prompt_id: int) -> tuple[float | None, str]:
    """When the typing of prompt ``prompt_id``'s key began (None: it did not), and its keys."""
    row = conn.execute(
        "SELECT typing_at, typed_keys FROM agent_prompts WHERE id = $1", (prompt_id,)
    ).fetchone()
    return (None, "") if row is None else (row["typing_at"], row["typed_keys"] or "")


def begin_typing(conn: Conn, ctx: Ctx, prompt_id: int, keys: str) -> bool:
    """Record that ``keys`` are about to be sent for the decided prompt (before they are);
    False when its typing began or was settled already (by another writer)."""
    return bool(
        conn.execute(
            "UPDATE agent_prompts SET typing_at = $1, typed_keys = $2 "
            "WHERE id = $3 AND typing_at IS NULL AND typed_at IS NULL",
            (ctx.now, keys, prompt_id),
        ).rowcount
        == 1
    )


def not_begun(conn: Conn, ctx: Ctx, prompt_id: int) -> None:
    """Forget a begun typing whose keys were not pressed (the driver deferred it)."""
    conn.execute(
        "UPDATE agent_prompts SET typing_at = NULL, typed_keys = NULL "
        "WHERE id = $1 AND typed_at IS NULL",
        (prompt_id,),
    )


def typed_state(conn: Conn, prompt_id: int) -> tuple[float | None, str, str]:
    """When prompt ``prompt_id``'s key was typed (None: not yet), the keys, and how it went."""
    row = conn.execute(
        "SELECT typed_at, typed_keys, typed_result FROM agent_prompts WHERE id = $1", (prompt_id,)
    ).fetchone()
    if row is None:
        return None, "", ""
    return row["typed_at"], row["typed_keys"] or "", row["typed_result"] or ""


def mark_typed(
    conn: Conn,
    ctx: Ctx,
    prompt_id: int,
    keys: str,
    result: str,
    *,
    typed: bool,
    verified: bool = False,
) -> bool:
    """Record that the decided prompt's ``keys`` were typed (``typed``) or never will be, with
    ``result`` in words; False when it was recorded already (by another writer)."""
    prompt = get_prompt(conn, prompt_id)
    done = conn.execute(
        "UPDATE agent_prompts SET typed_at = $1, typed_keys = $2, typed_result = $3 "
        "WHERE id = $4 AND typed_at IS NULL",
        (ctx.now, keys if typed else None, result, prompt_id),
    ).rowcount
    if done != 1:
        return False
    kind = EventKind.PROMPT_TYPED if typed else EventKind.PROMPT_NOT_TYPED
    text = (
        f"typed {keys!r} into {prompt.agent}'s window for prompt {prompt_id}: {result}"
        if typed
        else f"{prompt.agent}'s prompt {prompt_id}: its answer was not typed: {result}"
    )
    insert_event(
        conn,
        ctx.now,
        kind,
        text,
        task_id=prompt.task_id,
        agent=prompt.agent,
        actor=ctx.actor,
        data={"prompt": prompt_id, "keys": keys, "verified": verified},
    )
    return True
