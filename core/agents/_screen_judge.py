"""The screen signal: is an agent's window working or idle, with caret blinks ignored.

``ScreenJudge.look(agent, frame, now)`` takes each new thumbnail of an agent's watched
region (``core.agents._frames``) and returns a ``ScreenLook``: the screen's verdict on the
agent (``working``, ``idle`` or ``unknown``), the evidence in plain words and when.

What counts as a change:

- pixels that moved more than ``PIXEL_DELTA`` grey levels, at least ``MIN_PIXELS`` of them;
- a change spread over more than a caret-sized box (``CARET_BOX`` screen pixels, scaled to
  the thumbnail) is activity at once: text streaming, scrolling, a window changing size;
- a change confined to a caret-sized box is a *small* change. It is a caret blink when it
  toggles back (A → B → A inside the same box); the box and its two looks are then
  remembered, so that later blinks there are ignored at any phase (on, on, off, on...).
  A small change is undecided (``small``) until it is settled: the watcher grabs the
  region again every ``RECHECK_STEP_S`` for up to ``RECHECK_S`` (``recheck``): back as it
  was and staying so for two more rechecks, or toggling once more to the changed look in
  that box alone (A → B → A → B: rechecks late under load), a blink; anything else
  changing, changing again at once to a third look (a spinner), or the change staying the
  whole time, a change (a character typed, a counter). Without rechecks, the next look
  settles it: a small change that does not toggle back either proves it was no blink.

States change with hysteresis: ``working`` after changes in two looks in a row, ``idle``
after two quiet looks; until then the state stays what it was (``unknown`` at first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.agents._frames import (
    MIN_PIXELS,
    PIXEL_DELTA,
    Box,
    Change,
    change_between,
    crop,
    same_pixels,
    thumbnail_size,
)
from core.models import Agent

CARET_BOX = (12, 32)  # screen pixels: the largest caret (a terminal block cursor: one cell)
BLINKS_KEPT = 4  # caret boxes remembered per agent (the caret may move and come back)
RECHECK_S = 1.2  # a small change is rechecked this long: longer than a caret stays on or off
RECHECK_STEP_S = 0.1  # between two rechecks
STAY_RECHECKS = 2  # a caret toggled back stays so this many rechecks (>= 0.3 s on or off)
LOOKS_TO_SWITCH = 2  # looks in a row that make the state working (changes) or idle (quiet)

WORKING, IDLE, UNKNOWN = "working", "idle", "unknown"
# A look's verdict: what this frame showed against the one before.
FIRST, MISSING, QUIET, BLINK = "first", "missing", "quiet", "blink"
SMALL, CHANGE = "small", "change"


@dataclass(frozen=True)
class ScreenLook:
    """The screen signal's answer for one agent at one look.

    ``state``: working, idle or unknown; ``since``: when it became so; ``evidence``: what
    was seen, in plain words; ``verdict``: this look alone (first, missing, quiet, blink,
    small, change); ``changed``: this look counts as activity (a change that is no caret
    blink).
    """

    agent: str
    state: str
    evidence: str
    at: float
    since: float
    verdict: str
    changed: bool


@dataclass(frozen=True)
class _Toggle:
    """A small change: its box and the box's pixels before and after it."""

    box: Box
    before: bytes
    after: bytes
    look: int  # the look that saw it
    counted: bool  # already counted as activity


@dataclass
class _Track:
    """What the judge keeps per agent: the latest frame, caret boxes, counters."""

    size: tuple[int, int]
    caret: tuple[int, int]  # the largest caret box, in thumbnail pixels
    frame: bytes
    first_at: float
    state: str = UNKNOWN
    since: float = 0.0
    looks: int = 0
    verdict: str = FIRST
    changed_run: int = 0
    quiet_run: int = 0
    last_change_at: float | None = None
    blinks_ignored: int = 0  # since the last change
    blinks: list[_Toggle] = field(default_factory=list)
    pending: _Toggle | None = None
    back: bytes | None = None  # while rechecking: the frame that toggled back
    stays: int = 0  # rechecks it stayed so


class ScreenJudge:
    """Judges each agent's screen from its successive thumbnails; one instance per watcher.

    ``caret_box``: the largest caret, in screen pixels (width, height). Not thread-safe: call
    it from one thread (the watcher's worker).
    """

    def __init__(
        self,
        caret_box: tuple[int, int] = CARET_BOX,
        pixel_delta: int = PIXEL_DELTA,
        min_pixels: int = MIN_PIXELS,
    ) -> None:
        self.caret_box = caret_box
        self.pixel_delta = pixel_delta
        self.min_pixels = min_pixels
        self._tracks: dict[str, _Track] = {}

    def look(self, agent: Agent, frame: bytes | None, now: float) -> ScreenLook:
        """Judge ``frame`` (the agent's region now, as a thumbnail; None when none could be
        grabbed) against what was seen before."""
        if not frame:
            text = "screen: no frame (no display, or its region cannot be captured)"
            return ScreenLook(agent.id, UNKNOWN, text, now, now, MISSING, False)
        track = self._tracks.get(agent.id)
        size, scale = _shape(agent, frame)
        if track is None or track.size != size:
            track = _Track(size, caret_limit(scale, self.caret_box), frame, now, since=now)
            self._tracks[agent.id] = track
            return _answer(agent.id, track, now, "screen: first frame, nothing to compare yet")
        track.looks += 1
        verdict, retro = self._verdict(track, frame)
        track.frame = frame
        _count(track, verdict, retro, now)
        return _answer(agent.id, track, now, _evidence(track, now, verdict))

    def recheck(
        self, agent: Agent, frame: bytes | None, now: float, last: bool
    ) -> ScreenLook | None:
        """Settle an undecided small change (the agent's latest look said ``small``) with a
        frame grabbed shortly after it; None while still undecided.

        Back to the frame before it, and staying so for ``STAY_RECHECKS`` more rechecks: a
        caret blink (its box is learnt); changing again that soon, or anything else
        changing: a change (a spinner, a character typed); the same for the whole window
        (``last``, longer than a caret stays on or off): a change.
        """
        track = self._tracks.get(agent.id)
        pending = track.pending if track is not None else None
        if track is None or pending is None or track.verdict != SMALL or not frame:
            return None
        if len(frame) != len(track.frame):
            return None
        verdict = self._settle(track, pending, frame, last)
        if verdict is None:
            return None
        track.back = None
        if verdict == BLINK:
            self._learn(track, pending)
        else:
            track.pending = None
        _count(track, verdict, False, now)
        return _answer(agent.id, track, now, _evidence(track, now, verdict))

    def _settle(self, track: _Track, pending: _Toggle, frame: bytes, last: bool) -> str | None:
        if track.back is not None:  # it toggled back: does it stay so, as a caret does?
            change = change_between(track.back, frame, track.size, self.pixel_delta)
            if change is not None and change.pixels >= self.min_pixels:
                return BLINK if self._toggles_again(track, frame, change, pending) else CHANGE
            track.stays += 1
            return BLINK if track.stays >= STAY_RECHECKS or last else None
        change = change_between(track.frame, frame, track.size, self.pixel_delta)
        if change is None or change.pixels < self.min_pixels:
            return CHANGE if last else None
        if not self._toggles_back(track, frame, change, pending):
            return CHANGE
        track.back, track.stays = frame, 0
        return BLINK if last else None

    def forget(self, agent_id: str) -> None:
        """Drop what is known of an agent's screen (its next frame is a first frame)."""
        self._tracks.pop(agent_id, None)

    def _verdict(self, track: _Track, frame: bytes) -> tuple[str, bool]:
        """This look's verdict, and whether it proves the previous look's small change real."""
        change = change_between(track.frame, frame, track.size, self.pixel_delta)
        if change is None or change.pixels < self.min_pixels:
            return QUIET, False
        if change.box.width > track.caret[0] or change.box.height > track.caret[1]:
            return CHANGE, self._drop_pending(track)
        if self._known_blink(track, frame, change):
            return BLINK, False
        pending = track.pending
        if pending is not None and self._toggles_back(track, frame, change, pending):
            self._learn(track, pending)
            return BLINK, False
        follows = track.pending is not None  # a small change that did not toggle back
        retro = self._drop_pending(track)
        before = crop(track.frame, track.size, change.box)
        after = crop(frame, track.size, change.box)
        track.pending = _Toggle(change.box, before, after, track.looks, follows)
        return (CHANGE if follows else SMALL), retro

    def _learn(self, track: _Track, blink: _Toggle) -> None:
        """Remember a caret's box and its two looks (the latest first)."""
        track.pending = None
        track.blinks.insert(0, blink)
        del track.blinks[BLINKS_KEPT:]

    def _drop_pending(self, track: _Track) -> bool:
        """Forget the pending small change; True when it was the previous look's and not yet
        counted (a change now proves it was no caret blink)."""
        pending, track.pending = track.pending, None
        return pending is not None and not pending.counted and pending.look == track.looks - 1

    def _known_blink(self, track: _Track, frame: bytes, change: Change) -> bool:
        for index, blink in enumerate(track.blinks):
            if not change.box.within(blink.box):
                continue
            now = crop(frame, track.size, blink.box)
            if same_pixels(now, blink.before, self.pixel_delta) or same_pixels(
                now, blink.after, self.pixel_delta
            ):
                track.blinks.insert(0, track.blinks.pop(index))
                return True
        return False

    def _toggles_again(self, track: _Track, frame: bytes, change: Change, pending: _Toggle) -> bool:
        """Toggled back and now as the look that saw the change, inside its box alone
        (A, B, A, B): a caret's second blink, seen early by rechecks that came late."""
        return self._box_shows(track, frame, change, pending.box, pending.after)

    def _toggles_back(self, track: _Track, frame: bytes, change: Change, pending: _Toggle) -> bool:
        return self._box_shows(track, frame, change, pending.box, pending.before)

    def _box_shows(
        self, track: _Track, frame: bytes, change: Change, box: Box, look: bytes
    ) -> bool:
        """``change`` lies inside ``box`` and ``frame`` shows ``look`` there."""
        if not change.box.within(box):
            return False
        return same_pixels(crop(frame, track.size, box), look, self.pixel_delta)


def _shape(agent: Agent, frame: bytes) -> tuple[tuple[int, int], float]:
    """The thumbnail size of ``frame`` and its scale (thumbnail / screen pixels): from the
    agent's region; a frame of another length is taken as one row at full scale."""
    if agent.watch is not None:
        size = thumbnail_size(agent.watch[2], agent.watch[3])
        if size[0] * size[1] == len(frame):
            return size, size[0] / agent.watch[2]
    return (len(frame), 1), 1.0


def caret_limit(scale: float, box: tuple[int, int] = CARET_BOX) -> tuple[int, int]:
    """The largest caret in thumbnail pixels at ``scale`` (thumbnail / screen pixels), plus
    one each way (a line may straddle two thumbnail pixels)."""
    return math.ceil(box[0] * scale) + 1, math.ceil(box[1] * scale) + 1


def _count(track: _Track, verdict: str, retro: bool, now: float) -> None:
    """Update the runs of changed and quiet looks, and the state they decide."""
    track.verdict = verdict
    if verdict == CHANGE:
        track.changed_run += 2 if retro else 1
        track.quiet_run = 0
        track.last_change_at = now
        track.blinks_ignored = 0
    elif verdict in (QUIET, BLINK):
        track.quiet_run += 1
        track.changed_run = 0
        track.blinks_ignored += verdict == BLINK
    if track.changed_run >= LOOKS_TO_SWITCH:
        _switch(track, WORKING, now)
    elif track.quiet_run >= LOOKS_TO_SWITCH:
        _switch(track, IDLE, now)


def _switch(track: _Track, state: str, now: float) -> None:
    if track.state != state:
        track.state, track.since = state, now


def _answer(agent_id: str, track: _Track, now: float, evidence: str) -> ScreenLook:
    changed = track.verdict == CHANGE
    return ScreenLook(agent_id, track.state, evidence, now, track.since, track.verdict, changed)


def _evidence(track: _Track, now: float, verdict: str) -> str:
    """What the screen showed, in plain words, for the state it is in."""
    blinks = " (caret blinks ignored)" if track.blinks_ignored else ""
    if verdict == CHANGE:
        if track.state == WORKING:
            return f"screen: changed in {track.changed_run} looks in a row"
        return "screen: changed in 1 look (working after changes in 2 looks in a row)"
    if verdict == SMALL:
        return "screen: a small change (a caret blink unless the next change is another one)"
    quiet_since = track.last_change_at if track.last_change_at is not None else track.first_at
    quiet = f"screen: no change for {spoken_duration(now - quiet_since)}{blinks}"
    if track.state == WORKING:
        return f"{quiet}; working until a second quiet look"
    if track.state == UNKNOWN:
        return f"{quiet}; idle after {LOOKS_TO_SWITCH} quiet looks"
    return quiet


def spoken_duration(seconds: float) -> str:
    """``45 s``, ``3 m 10 s``, ``2 h 5 m``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} m {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} m"
