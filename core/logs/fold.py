"""A logging filter that folds repeats of one message, so that a flood (asyncio's accept
error once per refused connection, a failing retry loop) cannot rotate every earlier line
out of the log file.

Each distinct message (logger, level and text) may be written ``burst`` times per
``window_s``; further repeats in that window are dropped and counted, and the first one
written after the window says how many were left out.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

BURST = 5
WINDOW_S = 60.0
KEYS_MAX = 1000  # distinct messages remembered (the oldest are forgotten)


class FoldRepeats(logging.Filter):
    """Pass at most ``burst`` copies of one message per ``window_s``; count the rest."""

    def __init__(
        self,
        burst: int = BURST,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self._seen: OrderedDict[tuple[str, int, str], list[float]] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a repeat beyond the burst; the first record after a window of
        dropped repeats gets their count appended."""
        key = (record.name, record.levelno, record.getMessage()[:300])
        now = self.clock()
        state = self._seen.get(key)  # [window start, written, dropped]
        if state is None or now - state[0] >= self.window_s:
            dropped = int(state[2]) if state is not None else 0
            self._seen[key] = [now, 1, 0]
            self._seen.move_to_end(key)
            while len(self._seen) > KEYS_MAX:
                self._seen.popitem(last=False)
            if dropped:
                record.msg = (
                    f"{record.getMessage()} [repeated {dropped} more times in the "
                    f"previous {self.window_s:g} s, not logged]"
                )
                record.args = None
            return True
        if state[1] < self.burst:
            state[1] += 1
            return True
        state[2] += 1
        return False


def install_folding(logger: logging.Logger | None = None) -> None:
    """Add :class:`FoldRepeats` to every handler of ``logger`` (default: the root)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, FoldRepeats) for f in handler.filters):
            handler.addFilter(FoldRepeats())
