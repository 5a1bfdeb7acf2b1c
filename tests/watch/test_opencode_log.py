"""opencode's own log read for the retries its ACP does not say (issue 50 item 3): a
``stream error`` of the agent's session is ``limited`` (a 429, until the "try again in" it
says) or ``errored`` (a 500); the file is the user's, shared by every opencode process, so
only the agent's session's lines count and swarm never empties it.

The logs are real ones the pinned opencode 1.18.33 wrote against localmodel, saved unedited
beside its rule file (``core/clis/opencode/logs/``): ``acp`` under a protocol host (two 500s
then a 429 of one session), ``tui`` in a tmux pane (two 429s of another session, as the
user's own opencode would write in the same file).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from automation.protocol.watch import LOG_S, ProtocolWatch
from core.agent_state import AgentState
from core.agents import _judge as judge
from core.agents import _protocol_events as protocol_events
from core.agents import _signals as agent_signals
from core.agents._judge import Freshness
from core.clis import BY_NAME
from core.clis.logs import KEEP_BYTES, LogTail
from core.clis.opencode.stream_log import LINE_MAX, log_file, retries
from core.delivery._message_queries import task_of_delivery
from core.hosts import entries, wire
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import write_agents

LOGS = BY_NAME["opencode"].folder / "logs"
ACP = (LOGS / "opencode-1.18.33-acp-log.txt").read_text(encoding="utf-8").split("\n")
TUI = (LOGS / "opencode-1.18.33-tui-log.txt").read_text(encoding="utf-8").split("\n")
SESSION = "ses_de96cc29cffeSwK5y1KwPkUydN"  # the acp log's (its host's ACP session id)
OTHER = "ses_de67ea1eaffeSW85YfWko8uE92"  # the tui log's
ERRORS = [n for n, line in enumerate(ACP) if 'message="stream error"' in line]
LIMIT = ERRORS[-1]  # "Rate limit reached for requests. Please try again in 2s."


def at(line: str) -> float:
    return datetime.fromisoformat(line.split()[0].removeprefix("timestamp=")).timestamp()


def test_the_real_logs_errors_are_read_for_their_session() -> None:
    """A 500 errored until its latest retry, the 429 limited until the "try again in 2s" of
    its line; the lines before the first error say none."""
    assert len(ERRORS) == 3 and "Please try again in 2s." in ACP[LIMIT]
    error = retries(ACP[: ERRORS[0] + 1], SESSION)
    assert error is not None and (error.state, error.until) == (AgentState.ERRORED, None)
    assert error.line.startswith("AI_APICallError: The server had an error while processing")
    assert error.at == at(ACP[ERRORS[0]]) and error.expires == error.at + 60
    limit = retries(ACP, SESSION)
    assert limit is not None and limit.state is AgentState.LIMITED
    assert limit.at == at(ACP[LIMIT]) and limit.until == pytest.approx(limit.at + 2)
    assert limit.expires == limit.until
    assert retries(ACP[: ERRORS[0]], SESSION) is None


def test_another_sessions_lines_never_mark_the_agent() -> None:
    """The user's own opencode (the tui log) writing 429s after the agent's 500 in the same
    file: the agent's reading is its 500; the other session's is its own 429s."""
    shared = [*ACP[: ERRORS[0] + 1], *TUI]
    mine = retries(shared, SESSION)
    assert mine is not None and mine.state is AgentState.ERRORED
    assert retries(TUI, SESSION) is None
    theirs = retries(shared, OTHER)
    assert theirs is not None and theirs.state is AgentState.LIMITED
    assert theirs.until == pytest.approx(theirs.at + 1)  # "Please try again in 1s."
    assert retries(ACP, "") is None and retries(ACP, "ses_x y") is None  # no session known


@pytest.mark.parametrize(
    ("error", "state", "wait"),
    [
        ("AI_APICallError: Too Many Requests", AgentState.LIMITED, 60.0),
        ("AI_APICallError: Rate limit reached. Please try again in 1m30s.", AgentState.LIMITED,
         90.0),
        ("AI_APICallError: Rate limit reached. Please try again in 120ms.", AgentState.LIMITED,
         0.12),
        ("AI_APICallError: Provider is overloaded", AgentState.LIMITED, 60.0),
        ("AI_APICallError: Bad Gateway", AgentState.ERRORED, None),
    ],
)  # fmt: skip
def test_other_wordings_of_a_failed_request(
    error: str, state: AgentState, wait: float | None
) -> None:
    """The limit wordings of its screen's rules (rules.toml), the OpenAI delays' forms; the
    line the real one with only its error's words changed."""
    line = ACP[LIMIT].split("error.error=")[0] + "error.error=" + json.dumps(error)
    found = retries([line], SESSION)
    assert found is not None and found.state is state and found.line == error
    assert found.until == (None if wait is None else pytest.approx(found.at + wait))


def test_a_cut_odd_or_huge_line_is_none() -> None:
    """Hostile or broken lines: cut mid-way, its error's words claiming another session, an
    unescaped quote, a title request's (``small=true``), a huge one, bytes that are no text."""
    line = ACP[LIMIT]
    head = line.split("error.error=")[0]
    assert retries([line[:-30]], SESSION) is None  # cut inside the quoted error
    assert retries([head.rstrip()], SESSION) is None  # cut before it
    assert retries([head[:-10]], SESSION) is None  # cut in a value
    forged = (
        head.replace(SESSION, OTHER)
        + "error.error="
        + json.dumps(f"429 session.id={SESSION} small=false")
    )
    assert retries([forged], SESSION) is None
    assert retries([head + 'error.error="a "quoted" 429"'], SESSION) is None
    assert retries([line.replace("small=false", "small=true")], SESSION) is None
    huge = head + "error.error=" + json.dumps("Rate limit " + "x" * LINE_MAX)
    assert retries([huge], SESSION) is None
    bad_time = line.replace("timestamp=2026-11-26T", "timestamp=9999-99-99T")
    assert retries([bad_time, "\ufffd" * 50, "=" * 200, ""], SESSION) is None


def test_its_log_is_read_as_it_grows_and_never_emptied(tmp_path: Path) -> None:
    """Read past swarm's own logs' limit the file is the same, byte for byte; a missing
    file is no finding and is not made."""
    path = log_file(tmp_path)
    tail = LogTail(path, lambda lines: retries(lines, SESSION), keep_bytes=None)
    assert tail.read() is None and not path.exists()
    path.parent.mkdir(parents=True)
    filler = "\n".join(TUI) + "\n"
    with path.open("a", encoding="utf-8") as log:
        while log.tell() < KEEP_BYTES + len(filler):
            log.write(filler)
        log.write("\n".join(ACP[: LIMIT + 1]) + "\n")
    found = tail.read()  # made after the first look: read whole (its newest MB)
    assert found is not None and found.state is AgentState.LIMITED
    kept = path.read_bytes()
    assert len(kept) > KEEP_BYTES and tail.read() is None and path.read_bytes() == kept


# -- the protocol watch ----------------------------------------------------------------------


@pytest.fixture
async def opencode(home: Path, tmp_path: Path, clock: ManualClock) -> AsyncIterator[SwarmService]:
    """Agent O: opencode on the protocol route, its data dir (``cli_dir``) in ``tmp_path``."""
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "O", "role": "dev", "delivery": "protocol", "cli": "opencode",
          "cli_dir": str(tmp_path / "data")}],
    )  # fmt: skip
    service = await SwarmService.open(
        Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)}), clock
    )
    yield service
    await service.close()


def append(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write("\n".join(lines) + "\n")


def looked(watch: ProtocolWatch, clock: ManualClock) -> list[entries.Entry]:
    """What one look at the logs took in for O (the entries waiting to be written)."""
    clock.advance(LOG_S)
    watch._read_logs()
    return watch.pending.pop("O", [])


async def test_the_watch_takes_its_sessions_retries_as_the_journals(
    opencode: SwarmService, home: Path, tmp_path: Path, clock: ManualClock
) -> None:
    """O's host has the acp log's session open: another session's 429s are nothing; its own
    500 and 429 are ``api_retry`` updates, the 429 limited until the retry its line says."""
    clock.advance(at(ACP[ERRORS[0]]) - 1 - clock.now())  # the log's own time
    path = log_file(tmp_path / "data")
    append(path, ACP[: ERRORS[0]])  # before swarm looked: old news
    watch = ProtocolWatch(opencode, Freshness())
    assert looked(watch, clock) == []
    append(path, ACP[ERRORS[0] : ERRORS[0] + 1])
    assert looked(watch, clock) == []  # no session known: none of its lines is O's
    wire.session_path(home, "O").parent.mkdir(parents=True, exist_ok=True)
    wire.session_path(home, "O").write_text(SESSION + "\n", encoding="utf-8")
    append(path, TUI)
    assert looked(watch, clock) == []
    append(path, ACP[ERRORS[1] : LIMIT + 1])
    (entry,) = looked(watch, clock)
    assert isinstance(entry.body, entries.Update) and entry.body.kind == "api_retry"
    retry = entry.body.retry
    assert retry.status == 429 and retry.delay_ms == pytest.approx(2000)
    assert entry.at == at(ACP[LIMIT])
    assert retry.error.startswith("its log: AI_APICallError: Rate limit reached")
    numbered = dataclasses.replace(entry, seq=1)
    await opencode.store.write(
        "O", protocol_events.record, "O", 0, [numbered], Freshness(), task_of_delivery
    )
    row = await opencode.store.read(agent_signals.get_state, "O")
    assert row.state is AgentState.LIMITED and "API error 429" in row.evidence
    held = (await opencode.store.read(judge.held_limits))["O"]
    assert held.until == pytest.approx(at(ACP[LIMIT]) + 2)


async def test_a_new_session_of_its_host_is_the_one_read(
    opencode: SwarmService, home: Path, tmp_path: Path, clock: ManualClock
) -> None:
    """A reset opens another session (the host's session file names it): its lines count
    from then on, the old session's no longer."""
    clock.advance(at(TUI[0]) - clock.now())
    path = log_file(tmp_path / "data")
    append(path, ACP[:1])
    wire.session_path(home, "O").parent.mkdir(parents=True, exist_ok=True)
    wire.session_path(home, "O").write_text(SESSION, encoding="utf-8")
    watch = ProtocolWatch(opencode, Freshness())
    assert looked(watch, clock) == []
    wire.session_path(home, "O").write_text(OTHER, encoding="utf-8")
    append(path, ACP[: LIMIT + 1])
    assert looked(watch, clock) == []
    append(path, TUI)
    (entry,) = looked(watch, clock)
    assert isinstance(entry.body, entries.Update)
    assert entry.body.retry.status == 429 and entry.body.retry.delay_ms == pytest.approx(1000)
