"""The kill switch for all desktop input: a flag file under SWARM_HOME.

A file works across processes (bot, CLI, a second coordinator) and survives restarts;
anyone can also create it by hand (``touch $SWARM_HOME/PAUSED``) to stop input at once.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.privacy.files import make_dirs, write_file

FLAG_NAME = "PAUSED"


class KillSwitch:
    """Engage, release and read the global input pause."""

    def __init__(self, home: Path) -> None:
        self.path = home / FLAG_NAME

    def engage(self, reason: str) -> None:
        """Stop all desktop input until released; ``reason`` is kept in the file."""
        make_dirs(self.path.parent)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        write_file(tmp, (reason.strip() or "paused").encode("utf-8"))
        os.replace(tmp, self.path)

    def release(self) -> bool:
        """Allow input again; False when it was not engaged."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True

    def reason(self) -> str | None:
        """Why input is paused, or None when it is not."""
        try:
            return self.path.read_text(encoding="utf-8").strip() or "paused"
        except FileNotFoundError:
            return None
        except OSError:
            return "paused"

    @property
    def engaged(self) -> bool:
        """True while input is paused."""
        return self.path.exists()
