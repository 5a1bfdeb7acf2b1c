"""The desktop driver's tunables (seconds unless said otherwise)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core.settings import env_seconds


@dataclass(frozen=True)
class GuiOptions:
    """Tunables of the desktop driver (seconds unless said otherwise)."""

    lock_timeout_s: float = 30.0  # wait for another process's delivery, then "input busy"
    clipboard_timeout_s: float = 1.0  # until the clipboard holds exactly the text
    focus_timeout_s: float = 1.0  # until the keyboard focus is in the window clicked
    paste_timeout_s: float = 2.0  # until the paste shows, else "paste not seen"
    submit_timeout_s: float = 2.0  # until the input changes after submit, else "submit not seen"
    # a terminal agent: from the paste key to the submit key at least (Gemini CLI takes an
    # Enter within 40 ms of a paste for a newline)
    submit_gap_s: float = 0.15
    quiet_s: float = 0.005  # the input must rest this long before paste and before submit
    quiet_timeout_s: float = 0.5  # ...but never wait longer than this for it to rest
    clear_settle_s: float = 0.025  # a clear pass showing no change within this changed nothing
    first_clear_settle_s: float = 0.3  # ...in a terminal never seen empty (redrawn late)
    clear_passes: int = 4  # clear passes before an input that keeps changing is "not empty"
    first_settle_s: float = 0.05  # first delivery to an agent: the input rests this long first
    poll_s: float = 0.001  # pause between screenshots while waiting for a change
    human_idle_s: float = 2.0  # the pointer must rest this long after someone else moved it
    human_wait_s: float = 10.0  # ...within this time, else "human active"
    pointer_poll_s: float = 0.05
    steps_s: float = 15.0  # the typing steps' share of one delivery's deadline
    probe_size: tuple[int, int] = (460, 140)  # input box around the point when none is set
    band_px: int = 40  # rows around the input point compared with the empty input
    thin_px: int = 3  # changes at most this wide are a blinking cursor, not a paste
    restore_clipboard: bool = True
    restore_pointer: bool = True

    @property
    def time_limit_s(self) -> float:
        """One delivery's deadline: lock wait, two human waits and the typing steps."""
        return self.lock_timeout_s + 2 * self.human_wait_s + self.steps_s

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GuiOptions:
        """The tunables people change, from ``SWARM_*`` variables (see docs/delivery.md)."""
        env = os.environ if env is None else env
        return cls(
            lock_timeout_s=env_seconds(env, "SWARM_INPUT_LOCK_TIMEOUT", 30.0),
            focus_timeout_s=env_seconds(env, "SWARM_FOCUS_TIMEOUT", 1.0),
            paste_timeout_s=env_seconds(env, "SWARM_PASTE_TIMEOUT", 2.0),
            submit_timeout_s=env_seconds(env, "SWARM_SUBMIT_TIMEOUT", 2.0),
            human_idle_s=env_seconds(env, "SWARM_HUMAN_IDLE", 2.0),
            human_wait_s=env_seconds(env, "SWARM_HUMAN_WAIT", 10.0),
            steps_s=env_seconds(env, "SWARM_DELIVERY_STEPS", 15.0),
        )
