"""How many refused actions of one token the audit records (a flood cannot fill it)."""

from __future__ import annotations

REFUSALS_BURST = 10  # audit rows of refused actions per token per window
REFUSALS_WINDOW_S = 60.0


class RefusalAudit:
    """At most ``burst`` audit rows of refused actions per token per ``window_s``: a viewer
    token hammering an action cannot fill the audit table. The rest are counted; the next
    row written for that token says how many were left out."""

    def __init__(self, burst: int = REFUSALS_BURST, window_s: float = REFUSALS_WINDOW_S) -> None:
        self.burst = burst
        self.window_s = window_s
        self._tokens: dict[int, list[float]] = {}  # token id: [window start, written, left out]

    def admit(self, token_id: int, now: float) -> int | None:
        """None: write no row for this refusal; else how many were left out before it."""
        state = self._tokens.get(token_id)
        if state is None or now - state[0] >= self.window_s:
            left_out = int(state[2]) if state is not None else 0
            self._tokens[token_id] = [now, 1, 0]
            return left_out
        if state[1] < self.burst:
            state[1] += 1
            left_out, state[2] = int(state[2]), 0
            return left_out
        state[2] += 1
        return None
