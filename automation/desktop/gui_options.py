"""The desktop driver's tunables (seconds unless said otherwise)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.settings.envvars import Setting, defaults, read_fields, seconds

_SECONDS = seconds(positive=True)
GUI: tuple[Setting, ...] = (
    Setting(
        "SWARM_HUMAN_IDLE",
        "human_idle_s",
        2.0,
        _SECONDS,
        "the pointer must rest this long after someone else moved it",
    ),
    Setting(
        "SWARM_HUMAN_WAIT", "human_wait_s", 10.0, _SECONDS, "...within this time, else human active"
    ),
    Setting(
        "SWARM_INPUT_LOCK_TIMEOUT",
        "lock_timeout_s",
        30.0,
        _SECONDS,
        "wait for another process's delivery, then input busy",
    ),
    Setting(
        "SWARM_FOCUS_TIMEOUT",
        "focus_timeout_s",
        1.0,
        _SECONDS,
        "until the keyboard focus is in the window clicked",
    ),
    Setting(
        "SWARM_PASTE_TIMEOUT", "paste_timeout_s", 2.0, _SECONDS, "until the paste shows on screen"
    ),
    Setting(
        "SWARM_SUBMIT_TIMEOUT",
        "submit_timeout_s",
        5.0,
        _SECONDS,
        "until the input changes after submit",
    ),
    Setting(
        "SWARM_DELIVERY_STEPS",
        "steps_s",
        15.0,
        _SECONDS,
        "the typing steps' share of one delivery's deadline",
    ),
)
_DEFAULT = defaults(GUI)


@dataclass(frozen=True)
class GuiOptions:
    """Tunables of the desktop driver (seconds unless said otherwise)."""

    lock_timeout_s: float = _DEFAULT["lock_timeout_s"]
    clipboard_timeout_s: float = 1.0  # until the clipboard holds exactly the text
    focus_timeout_s: float = _DEFAULT["focus_timeout_s"]
    paste_timeout_s: float = _DEFAULT["paste_timeout_s"]
    submit_timeout_s: float = _DEFAULT["submit_timeout_s"]
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
    human_idle_s: float = _DEFAULT["human_idle_s"]
    human_wait_s: float = _DEFAULT["human_wait_s"]
    pointer_poll_s: float = 0.05
    steps_s: float = _DEFAULT["steps_s"]
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
    def from_env(cls, env: Mapping[str, str]) -> GuiOptions:
        """The tunables people change (``GUI``, see docs/delivery.md)."""
        return cls(**read_fields(GUI, env))
