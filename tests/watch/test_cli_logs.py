"""An agent CLI's own debug log read for what its screen hides: Gemini CLI 0.61's retries of a
per-minute 429 or a 500, which show nothing but its spinner for minutes.

The log is the real one the pinned Gemini CLI wrote in tests/agents/test_gemini_live.py
(``logs/gemini/gemini-0.61.0-debug-log.txt`` beside the rule files, saved unedited),
appended here entry by entry as the CLI wrote it; the panes are its real screens. The live
test checks the same against the running CLI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from automation.launch import Planned, cli_env
from automation.launch._config import Launch
from core.agent_state import AgentState
from core.agents._text_rules import load_rule_sets
from core.clis import BY_NAME, panes
from core.clis.gemini.debug_log import retries
from core.clis.logs import LogTail, log_path
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.tmux import PaneRef, PaneText
from core.watch.text_signal import TextWatcher
from tests.helpers import write_agents

PANES = panes("gemini")
LOG = (
    (BY_NAME["gemini"].folder / "logs" / "gemini-0.61.0-debug-log.txt")
    .read_text(encoding="utf-8")
    .split("\n")
)
IDLE = "gemini-0.61.0-idle-start.txt"
SPINNER = "gemini-0.61.0-limit-429-minute.txt"  # "⠴ Thinking... (esc to cancel, 6m 58s)"
STREAMING = "gemini-0.61.0-working.txt"


def pane(name: str) -> tuple[str, ...]:
    return tuple((PANES / name).read_text(encoding="utf-8").split("\n"))


def entry(text: str) -> tuple[int, float]:
    """The index of the log's entry whose first line has ``text``, and the entry's time."""
    (at,) = [n for n, line in enumerate(LOG) if text in line and "] [WARN] " in line]
    return at, datetime.fromisoformat(LOG[at][1:25]).timestamp()


QUOTA_60 = entry("rate-limits. Please retry in 60s.")
FIRST, SECOND = (
    entry(f"Attempt {n} failed: You exceeded your current quota, please check your plan and "
          "billing details. For more information on this error, head to: "
          "https://ai.google.dev/gemini-api/docs/rate-limits. Please retry in 3s.")
    for n in (1, 2)
)  # fmt: skip
ERROR_500 = entry("Attempt 1 failed with status 500")


def test_each_failed_attempt_in_the_real_log_is_read_with_its_retry() -> None:
    """A quota's entry gives its retry time (on its second line: "Retrying after 5605ms");
    a 500's is errored, its stack left out of the evidence; other warnings are none."""
    first = retries(LOG[: FIRST[0] + 2])
    assert first is not None and first.state is AgentState.LIMITED
    assert first.at == FIRST[1] and first.until == pytest.approx(FIRST[1] + 5.605)
    assert first.line.endswith("Suggested retry after 3s.. Retrying after 5605ms...")
    second = retries(LOG[: SECOND[0] + 2])
    assert second is not None and second.until == pytest.approx(SECOND[1] + 11.061)
    error = retries(LOG)
    assert error is not None and (error.state, error.until) == (AgentState.ERRORED, None)
    assert error.expires == error.at + 60  # its longest backoff and the request
    assert error.line.startswith("Attempt 1 failed with status 500. Retrying with backoff...")
    assert "throwErrorIfNotOK" not in error.line and error.expires > error.at
    assert retries(LOG[: QUOTA_60[0]]) is None  # start-up warnings: no retry


@pytest.mark.parametrize(
    ("message", "state", "until"),
    [
        ("Attempt 3 failed with 429 error (no Retry-After header). Retrying with backoff...",
         AgentState.LIMITED, 60.0),
        ("Attempt 2 failed with status 429. Retrying with backoff... ApiError: {}",
         AgentState.LIMITED, 60.0),
        ("Attempt 4 failed with 5xx error. Retrying with backoff...", AgentState.ERRORED, None),
        ("Attempt 1 failed. Retrying with backoff... TypeError: fetch failed",
         AgentState.ERRORED, None),
        ("Attempt 10 failed: You exceeded your current quota. Max attempts reached",
         AgentState.LIMITED, 60.0),
    ],
)  # fmt: skip
def test_the_other_retry_entries_of_its_source(
    message: str, state: AgentState, until: float | None
) -> None:
    """The entries 0.61's ``retryWithBackoff`` and ``logRetryAttempt`` write besides those
    the live test saw (their wording from the pinned bundle): a 429 with no delay is limited
    until its latest retry (60 s: 30 s, +30 %, and the request), another failure errored."""
    found = retries([f"[2026-11-25T13:21:41.041Z] [WARN] {message}", "    at stack (x.js:1:1)"])
    assert found is not None and found.state is state and found.line == message
    at = datetime.fromisoformat("2026-11-25T13:21:41.041Z").timestamp()
    assert found.until == (None if until is None else at + until)


def test_a_log_is_read_from_where_it_was_at_the_first_look(tmp_path: Path) -> None:
    """What the file held at the first read is old news; lines added are read once each, a
    partial line when it is whole; an emptied or replaced file from its start."""
    path = tmp_path / "A.log"
    path.write_text("\n".join(LOG[: FIRST[0]]) + "\n", encoding="utf-8")  # the 60 s retry
    tail = LogTail(path, retries)
    assert tail.read() is None  # old news
    with path.open("a", encoding="utf-8") as log:
        log.write(LOG[FIRST[0]][:40])
        log.flush()
        assert tail.read() is None  # its line not whole yet
        log.write(LOG[FIRST[0]][40:] + "\n" + LOG[FIRST[0] + 1] + "\n")
    found = tail.read()
    assert found is not None and found.until == pytest.approx(FIRST[1] + 5.605)
    assert tail.read() is None  # read once
    path.write_text("\n".join(LOG[ERROR_500[0] : ERROR_500[0] + 3]) + "\n", encoding="utf-8")
    found = tail.read()  # replaced by a shorter file: read from its start
    assert found is not None and found.state is AgentState.ERRORED


def test_a_log_read_past_its_limit_is_emptied_and_its_writer_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "A.log"
    path.touch()
    tail = LogTail(path, retries, keep_bytes=2000)
    assert tail.read() is None
    with path.open("a", encoding="utf-8") as log:  # appends, as the CLI's stream does
        log.write("\n".join(LOG[: QUOTA_60[0]]) + "\n")
        log.flush()
        assert tail.read() is None and path.stat().st_size == 0
        log.write("\n".join(LOG[FIRST[0] : FIRST[0] + 2]) + "\n")
    assert path.stat().st_size < 2000  # written at the file's new end
    found = tail.read()
    assert found is not None and found.at == FIRST[1]


def test_a_log_made_after_the_first_look_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "A.log"
    tail = LogTail(path, retries)
    assert tail.read() is None
    path.write_text("\n".join(LOG[FIRST[0] : FIRST[0] + 2]) + "\n", encoding="utf-8")
    assert tail.read() is not None


# -- the watcher ------------------------------------------------------------------------------


class Screens:
    """A panes reader showing the saved real pane the test says."""

    def __init__(self) -> None:
        self.shown = IDLE

    def __call__(self, refs: Sequence[PaneRef]) -> list[PaneText]:
        return [PaneText(ref, pane(self.shown)) for ref in refs]


@pytest.fixture
async def gemini(home: Path, tmp_path: Path, clock: ManualClock) -> AsyncIterator[SwarmService]:
    """Agent G: Gemini CLI in a tmux pane (read through ``Screens``)."""
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "G", "role": "dev", "tmux": "swarm:g", "cli": "gemini"}],
    )
    service = await SwarmService.open(
        Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)}), clock
    )
    yield service
    await service.close()


@pytest.fixture
def log(home: Path) -> Iterator[Path]:
    """G's debug log where swarm names it, holding the real log up to the first retry."""
    path = log_path(home, "G")
    path.parent.mkdir()
    path.write_text("\n".join(LOG[: FIRST[0]]) + "\n", encoding="utf-8")
    yield path


def append(path: Path, at: int) -> None:
    """The real log's entry at ``at`` (its lines up to the next entry) added to ``path``."""
    end = next(n for n in range(at + 1, len(LOG)) if LOG[n].startswith("[2026-"))
    with path.open("a", encoding="utf-8") as out:
        out.write("\n".join(LOG[at:end]) + "\n")


def set_clock(clock: ManualClock, at: float) -> None:
    clock.advance(at - clock.now())


async def look(
    text: TextWatcher, screens: Screens, shown: str
) -> tuple[AgentState, str, float | None]:
    screens.shown = shown
    (seen,) = await text.tick()
    return seen.state, seen.evidence, seen.until


async def test_a_retry_its_log_says_is_its_state_until_the_screen_moves_or_it_is_overdue(
    gemini: SwarmService, log: Path, clock: ManualClock
) -> None:
    """Under the same still spinner: limited until each retry the log says, then (retried,
    nothing written since) working again; a turn that ended drops the log's news."""
    screens = Screens()
    text = TextWatcher(gemini, load_rule_sets(None)[0], reader=screens)
    set_clock(clock, FIRST[1] - 2)
    seen = [await look(text, screens, IDLE)]  # the 60 s retry before it: old news
    append(log, FIRST[0])
    set_clock(clock, FIRST[1] + 1)
    seen.append(await look(text, screens, SPINNER))  # moved (its turn began), then the 429
    set_clock(clock, FIRST[1] + 5)
    seen.append(await look(text, screens, SPINNER))
    append(log, SECOND[0])
    set_clock(clock, SECOND[1] + 1)
    seen.append(await look(text, screens, SPINNER))
    set_clock(clock, SECOND[1] + 11.061 + 1)  # retried: no news since
    seen.append(await look(text, screens, SPINNER))
    append(log, SECOND[0])  # the same retry written again, then the turn ends
    seen.append(await look(text, screens, IDLE))
    seen.append(await look(text, screens, SPINNER))  # a new turn: nothing of the old one
    await text.close()
    states = [state for state, _, _ in seen]
    assert states == [AgentState.IDLE, *[AgentState.LIMITED] * 3, AgentState.WORKING,
                      AgentState.IDLE, AgentState.WORKING]  # fmt: skip
    assert [until for _, _, until in seen[1:4]] == [
        pytest.approx(FIRST[1] + 5.605), pytest.approx(FIRST[1] + 5.605),
        pytest.approx(SECOND[1] + 11.061),
    ]  # fmt: skip
    assert seen[1][1].startswith("its log: 'Attempt 1 failed: You exceeded your current quota")
    assert seen[1][1].endswith("(gemini v1, rule working)")
    assert "its log" not in seen[4][1]


async def test_a_retry_before_its_screen_last_moved_is_past(
    gemini: SwarmService, log: Path, clock: ManualClock
) -> None:
    """A 500 retried, then the answer arriving above the spinner: errored at the look that
    read the retry, working at the next, whose screen moved after it."""
    screens = Screens()
    text = TextWatcher(gemini, load_rule_sets(None)[0], reader=screens)
    set_clock(clock, ERROR_500[1] - 2)
    seen = [await look(text, screens, IDLE)]
    append(log, ERROR_500[0])
    set_clock(clock, ERROR_500[1] + 1)
    seen.append(await look(text, screens, SPINNER))
    set_clock(clock, ERROR_500[1] + 6)
    seen.append(await look(text, screens, STREAMING))
    set_clock(clock, ERROR_500[1] + 11)
    seen.append(await look(text, screens, STREAMING))
    await text.close()
    assert [state for state, _, _ in seen] == [
        AgentState.IDLE, AgentState.ERRORED, AgentState.WORKING, AgentState.WORKING
    ]  # fmt: skip
    assert "its log: 'Attempt 1 failed with status 500. Retrying with backoff..." in seen[1][1]


# -- the launch -------------------------------------------------------------------------------


def planned(agent: str, command: str, cli: str | None = None) -> Planned:
    launch = Launch(agent, "terminal", command, command, "xterm")
    return Planned(agent, launch, (0, 0, 800, 600), Path("/tmp"), cli)


def test_a_gemini_agent_is_launched_writing_the_log_swarm_reads(home: Path) -> None:
    """``desktop up`` names the log where the watcher reads it (its folder made), also when
    swarm's own environment names another file (before: that one was kept, and only a log
    line said swarm would not see the retries)."""
    env = cli_env(planned("G", "gemini --model x"), {}, home)
    assert env == {"GEMINI_DEBUG_LOG_FILE": str(log_path(home, "G"))}
    assert log_path(home, "G").parent.is_dir()
    assert cli_env(planned("W", "./wrapper.sh", cli="gemini"), {}, home) == {
        "GEMINI_DEBUG_LOG_FILE": str(log_path(home, "W"))
    }
    assert cli_env(planned("C", "claude"), {}, home) == {}
    elsewhere = {"GEMINI_DEBUG_LOG_FILE": "/x.log"}
    assert cli_env(planned("G", "gemini"), elsewhere, home) == {
        "GEMINI_DEBUG_LOG_FILE": str(log_path(home, "G"))
    }
    assert cli_env(planned("O", "opencode"), {"OPENCODE_DISABLE_MOUSE": "0"}, home) == {}


def test_a_log_that_cannot_be_read_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a missing file (the CLI not started yet) but one that cannot be read: before,
    nothing said so and its retries went unseen."""
    path = tmp_path / "A.log"
    path.mkdir()  # not a file: reading it fails
    tail = LogTail(path, retries)
    with caplog.at_level("WARNING"):
        assert tail.read() is None and tail.read() is None
    assert caplog.text.count(f"agent log {path} cannot be read") == 1
