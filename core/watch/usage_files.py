"""The agents' turns read from their CLIs' own files into the cost ledger (issue 51): Claude
Code's session transcripts for its agents on the tmux and desktop routes (the protocol route
reports each turn itself). Read at each watch tick.

A session file seen for the first time is read to its end without recording anything (its
past turns were not swarm's to count, and have no task): only the turns that end after it
was first seen are recorded, with the task the agent holds then. After a restart the files
are seen anew: turns that ended while swarm was stopped are not counted.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from core.agents.hook_events import held_task
from core.clis.claude_code import TranscriptReader, TranscriptTurn, transcript_dir
from core.context import Ctx
from core.costs import turns as turn_cost
from core.store.access import StoreAccess
from core.store.conn import Conn

log = logging.getLogger(__name__)
ROUTES = ("tmux", "gui")  # the protocol route records its turns itself
MAX_FILES = 20  # the newest session files of one agent read at each tick


class UsageFiles:
    """Each Claude Code agent's session transcripts, read where the last look stopped."""

    def __init__(self, store: StoreAccess) -> None:
        self.store = store
        self.readers: dict[Path, TranscriptReader] = {}

    async def tick(self) -> int:
        """Record the turns ended since the last tick; how many were new."""
        home = self.store.settings.claude_dir
        if home is None:
            return 0
        recorded = 0
        for agent in list(self.store.agents.values()):
            if agent.cli != "claude-code" or agent.delivery not in ROUTES or not agent.workspace:
                continue
            folder = transcript_dir(home, agent.workspace)
            found = await asyncio.to_thread(self._read_folder, folder)
            if found:
                recorded += await self.store.write(agent.id, _record, agent.id, found)
        return recorded

    def _read_folder(self, folder: Path) -> list[TranscriptTurn]:
        try:
            files = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)[-MAX_FILES:]
        except OSError as exc:
            log.debug("%s cannot be listed: %s", folder, exc)
            return []
        found: list[TranscriptTurn] = []
        for path in files:
            reader = self.readers.get(path)
            if reader is None:  # first seen: its past is not counted
                reader = self.readers[path] = TranscriptReader(path)
                reader.read()
                continue
            found += reader.read()
        return found


def _record(conn: Conn, ctx: Ctx, agent: str, turns: list[TranscriptTurn]) -> int:
    return turn_cost.record_transcript_turns(conn, ctx, agent, held_task(conn, agent), turns)
