"""A protocol host under a broken or hostile agent (hardening, round five): the real host, as
``swarm desktop up --protocol`` starts it, running ``hostile_acp`` (an ACP agent that writes
anything), and swarm's own reading of it (``ProtocolWatch``, the take-in) on a real store.

No line wedges the agent: a line over the limit, a 15 MB message, an edit's permission
request carrying an 8.5 MB diff, a JSON value that is not an object, a message nested 3,000
deep, an id or error of the wrong shape, a session/update ACP does not know: each is bounded
or said as an ``agent_error``, the connection goes on, and swarm takes the turn's end in.
The agent's own processes are refused by the host's socket (they may not answer, prompt or
read), audited; the host's files are its owner's alone."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import stat
import sys
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from automation.protocol import launch
from automation.protocol.watch import ProtocolWatch
from core.agent_state import AgentState
from core.agents import _queries as agent_queries
from core.agents import _signals as agent_signals
from core.agents._judge import Freshness
from core.hosts import client, lines, running, wire
from core.hosts import entries as host_entries
from core.hosts.entries import Answer, HostError, Update
from core.hosts.replies import Done, Failed, Taken
from core.protocols import SystemClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import query, write_agents

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("hostile-host")]
AGENT = "Hostile-1"
AGENT_SCRIPT = Path(__file__).with_name("hostile_acp.py")
_deliveries = iter(range(1, 10_000))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A swarm home of mode 0755 (as a user's may be) with the hostile agent's host
    running, started as ``swarm desktop up --protocol`` starts it."""
    root = tmp_path_factory.mktemp("hostile")
    made = root / "home"
    made.mkdir(mode=0o755)
    os.chmod(made, 0o755)
    env = {**os.environ, "HOSTILE_SOCKET": str(wire.socket_path(made, AGENT))}
    with warnings.catch_warnings():  # the host outlives its Popen, as after desktop up
        warnings.simplefilter("ignore", ResourceWarning)
        command = [sys.executable, str(AGENT_SCRIPT)]
        asyncio.run(launch.start(made, AGENT, command, root, env, wait_s=30))
        gc.collect()
    try:
        yield made
    finally:
        asyncio.run(launch.stop(made, AGENT))


async def turn(home: Path, text: str) -> list[dict[str, Any]]:
    """One prompt to the agent and the journal's entries until its turn ended."""
    before = (await client.hello(home, AGENT)).seq
    answer = await client.prompt(home, AGENT, next(_deliveries), text, wait_s=60)
    assert answer.ok, answer
    return await entries_until(home, before, (wire.TURN_END, wire.TURN_ERROR))


async def entries_until(home: Path, after: int, types: tuple[str, ...]) -> list[dict[str, Any]]:
    """The journal's entries after ``after`` up to the first of ``types``."""
    found: list[dict[str, Any]] = []

    async def read() -> None:
        async for read in client.stream(home, AGENT, after):
            entry = host_entries.line(read)  # as the host wrote it
            found.append(entry)
            if entry["type"] in types:
                return

    await asyncio.wait_for(read(), 60)
    return found


def of_type(entries: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["type"] == kind]


def said(entries: list[dict[str, Any]]) -> str:
    return "".join(str(e.get("text") or "") for e in entries if e["type"] == wire.UPDATE)


async def test_a_line_over_the_limit_is_said_and_the_agent_goes_on(home: Path) -> None:
    entries = await turn(home, f"line {lines.AGENT_LINE_LIMIT + 1_000_000}; say still here")
    (error,) = of_type(entries, wire.AGENT_ERROR)
    assert "over the limit: dropped" in error["message"], error
    assert said(entries) == "still here"
    assert entries[-1]["type"] == wire.TURN_END and entries[-1]["stop_reason"] == "end_turn"


async def test_a_15_mb_message_is_journaled_cut_to_its_head_and_tail(home: Path) -> None:
    entries = await turn(home, "chunk 15000000; say after")
    (big,) = [e for e in of_type(entries, wire.UPDATE) if "cut" in e]
    assert big["cut"]["bytes"] > 15_000_000
    assert big["text"].startswith("c" * 1000) and big["text"].endswith("c" * 1000)
    assert "characters cut" in big["text"] and len(big["text"]) < 70_000
    assert said(entries).endswith("after")
    journal = wire.journal_path(home, AGENT).read_bytes().splitlines()
    assert max(len(line) for line in journal) <= lines.ENTRY_LIMIT


async def test_a_permission_with_a_huge_diff_is_asked_cut_and_answered(home: Path) -> None:
    """An edit of an 8.5 MB file: the request (which holds the old and new text) is
    journaled under the limit with its options whole, and the answer reaches the agent."""
    before = (await client.hello(home, AGENT)).seq
    sent = client.prompt(home, AGENT, next(_deliveries), "ask-diff 8500000")
    prompting = asyncio.create_task(sent)
    (request,) = of_type(await entries_until(home, before, (wire.PERMISSION,)), wire.PERMISSION)
    # the request is the agent taking the prompt: the prompt is delivered now, not after the
    # host's 30 s wait for an update (which held swarm's delivery, and its graceful stop)
    taken = await asyncio.wait_for(asyncio.shield(prompting), 10)
    assert isinstance(taken, Taken) and not taken.ended, taken
    assert [o["id"] for o in request["options"]] == ["allow", "reject"]
    assert request["title"] == "Edit big.txt" and request["cut"]["bytes"] > 17_000_000
    assert len(wire.encode(request)) <= lines.ENTRY_LIMIT
    answer = await client.answer(home, AGENT, Answer(request=request["request"], option="reject"))
    assert answer == Done()
    entries = await entries_until(home, request["seq"], (wire.TURN_END,))
    assert '"optionId": "reject"' in said(entries)


async def test_a_request_with_no_way_to_say_no_gets_one_and_is_cancelled(home: Path) -> None:
    """Issue 79, item 4: a request whose options all allow is given swarm's cancel as its
    rejecting option (so ``swarm reject`` has one); chosen, the agent hears ``cancelled``:
    nothing allowed."""
    from core.dialogs.permissions import choice
    from core.models import REJECT_ALWAYS, REJECT_ONCE, PromptOption

    before = (await client.hello(home, AGENT)).seq
    sent = client.prompt(home, AGENT, next(_deliveries), "ask-yes-only")
    prompting = asyncio.create_task(sent)
    (request,) = of_type(await entries_until(home, before, (wire.PERMISSION,)), wire.PERMISSION)
    await asyncio.wait_for(asyncio.shield(prompting), 10)
    assert [o["id"] for o in request["options"]] == ["once", "always", wire.CANCEL_OPTION]
    offered = tuple(PromptOption(o["id"], o["name"], o["kind"]) for o in request["options"])
    rejecting = choice(offered, (REJECT_ONCE, REJECT_ALWAYS))  # what swarm reject takes
    assert rejecting is not None and rejecting.key == wire.CANCEL_OPTION, offered
    said_no = Answer(request=request["request"], option=rejecting.key)
    assert await client.answer(home, AGENT, said_no) == Done()
    entries = await entries_until(home, request["seq"], (wire.TURN_END,))
    assert '"outcome": "cancelled"' in said(entries) and "selected" not in said(entries)


async def test_a_request_over_the_limit_is_answered_with_an_error(home: Path) -> None:
    """A permission request of 68 MB (over the 64 MiB an agent's line may hold): said, and
    answered with an error, so the agent does not wait for an answer that cannot come."""
    await lines_apart(home)
    entries = await turn(home, "ask-diff 34000000")
    (error,) = of_type(entries, wire.AGENT_ERROR)
    assert "over the limit: dropped" in error["message"]
    assert "session/request_permission" in said(entries) and not of_type(entries, "permission")


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("raw [1,2,3]", "not a JSON object (a list)"),
        ('raw {"jsonrpc":"2.0","id":[1],"result":{}}', "id is no number or string"),
        ('raw {"jsonrpc":"2.0","id":7,"error":"boom"}', "error is no object"),
        ('raw {"jsonrpc":"2.0","method":5}', "method is no string"),
        ("raw not json at all", "not JSON"),
        ("deep 3000", "nested deeper than 64"),
        (  # a kind of update the SDK's schema does not know: it would drop it unsaid
            'raw {"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"hostile-1",'
            '"update":{"sessionUpdate":"brand_new_kind","words":1}}}',
            "a session/update of a shape ACP does not know (update: Input tag 'brand_new_kind'",
        ),
        (  # a known kind of a shape it does not know
            'raw {"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"hostile-1",'
            '"update":{"sessionUpdate":"tool_call","title":["not","text"]}}}',
            "a session/update of a shape ACP does not know (update.tool_call.",
        ),
    ],
)
async def test_a_line_that_is_no_json_rpc_object_leaves_the_connection_up(
    home: Path, line: str, why: str
) -> None:
    await lines_apart(home)
    entries = await turn(home, f"{line}; say next")
    (error,) = of_type(entries, wire.AGENT_ERROR)
    assert why in error["message"], error
    assert said(entries) == "next"
    assert of_type(await turn(home, "say the turn after"), wire.TURN_END)


async def test_a_lone_surrogate_is_journaled_replaced_and_the_numbering_goes_on(
    home: Path,
) -> None:
    """JSON's ``\\ud800`` is a string UTF-8 cannot hold: the update is journaled with it as
    ``?`` (before: the journal's write raised, the update was lost and its number skipped,
    which the streams' slicing assumes never happens)."""
    update = ('{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"hostile-1",'
              '"update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text",'
              '"text":"a\\ud800b"}}}}')  # fmt: skip
    entries = await turn(home, f"raw {update}; say next")
    assert said(entries) == "a?bnext"
    numbers = [entry["seq"] for entry in entries]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        ({"op": "events", "after": [1]}, "bad events request: after is no number"),
        ({"op": "prompt", "delivery": "x", "text": "hi"}, "bad prompt request"),
        ({"op": "ack"}, "bad ack request: seq is no number"),
        ({"op": {"a": 1}}, "unknown op {'a': 1}"),
    ],
)
async def test_a_request_of_a_bad_shape_is_answered_in_one_line(
    home: Path, request_: dict[str, Any], why: str
) -> None:
    """Each request is read once, typed, where the host reads it: a bad shape is answered
    with one line why, and the connection goes on (before: an ``events`` whose ``after`` is
    no number ended it unanswered)."""
    reader, writer = await asyncio.open_unix_connection(str(wire.socket_path(home, AGENT)))
    try:
        writer.write(wire.encode(request_) + wire.encode({"op": wire.HELLO}))
        refused = wire.decode(await asyncio.wait_for(reader.readline(), 10))
        assert refused["ok"] is False and refused["reason"].startswith(why), refused
        assert wire.decode(await asyncio.wait_for(reader.readline(), 10))["ok"] is True
    finally:
        writer.close()


async def lines_apart(home: Path, kinds: tuple[str, ...] = (wire.AGENT_ERROR,)) -> None:
    """Until a test's own line of ``kinds`` is said at once: the host says a bad line
    (``agent_error``), and a refusal of the agent's process (``refused``), at most once each
    ``BAD_LINE_S``, so until that long after the last of them its journal holds (looked at
    again after the wait: a line held back is said as the second ends)."""
    from automation.protocol.host import BAD_LINE_S

    while True:
        said = [e["at"] for e in _journal(home) if e["type"] in kinds]
        wait = max(said, default=0.0) + BAD_LINE_S + 0.1 - time.time()
        if wait <= 0:
            return
        await asyncio.sleep(wait)


def _journal(home: Path) -> list[dict[str, Any]]:
    """The agent's journal's entries that may be a bad line's or a refusal's."""
    kept = wire.journal_path(home, AGENT).read_bytes().splitlines()
    return [wire.decode(line) for line in kept if b"agent_error" in line or b"refused" in line]


@pytest.mark.parametrize("op", ["answer", "hello", "events", "prompt", "cancel", "stop"])
async def test_the_agents_own_processes_are_refused_by_its_host(home: Path, op: str) -> None:
    """The agent reads its request's id from the journal and answers "allow" on the socket,
    or prompts itself, or stops: refused, whatever it asks."""
    await lines_apart(home, (wire.REFUSED,))
    entries = await turn(home, f"probe {op}")
    assert '"refused":true' in said(entries) and "is a process of the agent" in said(entries)
    (refused,) = of_type(entries, wire.REFUSED)
    assert refused["op"] == op and refused["pid"] != os.getpid()
    assert (await client.hello(home, AGENT)).ok  # swarm is answered


def test_the_hosts_files_are_its_owners_alone(home: Path) -> None:
    """0600 in a home of mode 0755: the journal holds the agent's words and diffs."""
    for path in (wire.journal_path(home, AGENT), wire.session_path(home, AGENT),
                 running.log_path(home, AGENT), running.pid_path(home, AGENT)):  # fmt: skip
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(wire.folder(home).stat().st_mode) == 0o700


@pytest.fixture
async def service(home: Path) -> AsyncIterator[SwarmService]:
    """Swarm on the host's home, the agent on the protocol route."""
    agents: list[dict[str, object]] = [
        {"id": AGENT, "role": "dev", "delivery": "protocol", "cli": "gemini"}
    ]
    config = write_agents(home.parent / "agents.toml", agents)
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    opened = await SwarmService.open(settings, SystemClock())
    yield opened
    await opened.close()


async def taken_in(service: SwarmService, watch: ProtocolWatch, seq: int) -> None:
    """Run the watch until it took the journal in up to ``seq``."""
    for _ in range(600):
        await watch.fire()
        _, cursor = await service.store.read(agent_queries.protocol_cursor, AGENT)
        if cursor >= seq:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the journal was not taken in up to {seq}")


async def test_swarm_takes_in_what_followed_a_line_it_could_not_take(
    service: SwarmService, home: Path
) -> None:
    """Swarm's reader of the journal, from the start of the host's life (with whatever
    the tests before made: cut, refused, said as errors) to a turn's end that follows a
    refusal, a line over the limit and a line that is no object: the agent is idle, its
    refusals audited, and its reader still runs."""
    await lines_apart(home, (wire.AGENT_ERROR, wire.REFUSED))
    await turn(home, f"probe answer; line {lines.AGENT_LINE_LIMIT + 10}; raw [1]")
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    try:
        entries = await turn(home, "say taken")
        await taken_in(service, watch, entries[-1]["seq"])
        assert not any(task.done() for task in watch.readers.values())
    finally:
        await watch.stop()
    state = await service.store.read(agent_signals.get_state, AGENT)
    assert state.state is AgentState.IDLE, state
    refused = query(service.settings, "SELECT text FROM events WHERE kind = 'access.refused'")
    assert refused and all("protocol host refused" in row[0] for row in refused)


async def test_a_stream_line_over_the_limit_is_read_as_what_its_head_says(
    tmp_path: Path,
) -> None:
    """A host from before entries were bounded streams a 17 MB line: swarm's reader takes
    it as ``unread`` with its number and type, and reads on."""
    home = tmp_path / "old"
    wire.folder(home).mkdir(parents=True)
    big = wire.encode({"seq": 5, "at": 1.0, "type": "update", "kind": "agent_message_chunk",
                       "text": "x" * (wire.LINE_LIMIT + 1000)})  # fmt: skip
    after = wire.encode({"seq": 6, "at": 2.0, "type": "turn_end", "stop_reason": "end_turn"})

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(big + after)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(serve, path=str(wire.socket_path(home, AGENT)))
    async with server:
        got = [entry async for entry in client.stream(home, AGENT, 0)]
    assert (got[0].seq, got[0].at, got[0].type) == (5, 1.0, "update")
    assert got[0].body == Update(kind="agent_message_chunk")  # (its words unread)
    assert got[1].seq == 6 and len(got) == 2


async def test_an_agent_that_closed_its_output_is_said_and_takes_no_prompt(home: Path) -> None:
    """Its process runs on, but nothing it says can come: a host error (offline in swarm),
    and a prompt is refused as gone, never marked delivered."""
    agent = "Mute-1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        await launch.start(home, agent, [sys.executable, str(AGENT_SCRIPT)], home.parent,
                           dict(os.environ), wait_s=30)  # fmt: skip
        gc.collect()
    try:
        await client.prompt(home, agent, 1, "close-output", wait_s=60)
        error: list[HostError] = []

        async def said_so() -> None:
            async for entry in client.stream(home, agent, 0):
                if isinstance(entry.body, HostError):
                    error.append(entry.body)
                    return

        await asyncio.wait_for(said_so(), 30)
        assert "closed its output but runs on" in error[0].message
        refused = await client.prompt(home, agent, 2, "say hi")
        assert isinstance(refused, Failed) and refused.gone, refused
    finally:
        await launch.stop(home, agent)


async def test_a_long_journal_waits_in_the_host_not_in_swarms_memory(
    service: SwarmService, home: Path
) -> None:
    """5,000 updates while swarm is not writing (stopped, or slow): swarm's reader holds at
    most ``PENDING_MAX`` of them and reads on as they are written (before: every entry read
    at once, 300,000 updates took the coordinator from 175 to 334 MB)."""
    from automation.protocol.watch import PENDING_MAX

    entries = await turn(home, ";".join(f"say {n}" for n in range(5000)))
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    try:
        held = 0
        for _ in range(200):  # the reader, alone (nothing written), until it holds its most
            await asyncio.sleep(0.05)
            if (held := len(watch.pending.get(AGENT) or ())) >= PENDING_MAX:
                break
        for _ in range(10):  # and holds no more as the journal's rest waits
            assert PENDING_MAX <= held <= PENDING_MAX + 1, held
            await asyncio.sleep(0.05)
            held = len(watch.pending.get(AGENT) or ())
        assert PENDING_MAX <= held <= PENDING_MAX + 1, held
        await taken_in(service, watch, entries[-1]["seq"])
    finally:
        await watch.stop()


async def test_bad_lines_held_back_in_a_burst_are_said_after_the_second(home: Path) -> None:
    """Three bad lines at once: the first is said at once, the two held back within the
    second after (before: counted, and said only with a later bad line, if one came)."""
    await lines_apart(home)
    entries = await turn(home, "raw [1]; raw [2]; raw [3]; say burst over")
    (first,) = of_type(entries, wire.AGENT_ERROR)
    assert first["lines"] == 1
    later = await entries_until(home, entries[-1]["seq"], (wire.AGENT_ERROR,))
    assert later[-1]["lines"] == 2 and "not a JSON object (a list)" in later[-1]["message"]


async def test_a_caller_gone_before_it_is_told_is_refused(home: Path) -> None:
    """A process writes "answer" on the socket and exits before the host reads who it is
    (the host frozen meanwhile): no parent chain to clear it, so it is refused, never
    answered as swarm."""
    await lines_apart(home, (wire.REFUSED,))
    before = (await client.hello(home, AGENT)).seq
    host = running.host_pid(home, AGENT)
    assert host is not None
    line = wire.encode({"op": wire.ANSWER, "request": "r-1", "option": "allow"})
    code = ("import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
            "s.sendall(sys.argv[2].encode()); s.close()")  # fmt: skip
    os.kill(host, signal.SIGSTOP)
    try:
        gone = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, str(wire.socket_path(home, AGENT)), line.decode()
        )
        assert await gone.wait() == 0
    finally:
        os.kill(host, signal.SIGCONT)
    (refused,) = of_type(await entries_until(home, before, (wire.REFUSED,)), wire.REFUSED)
    assert refused["pid"] == gone.pid and refused["op"] == wire.ANSWER
    assert "gone before" in refused["why"], refused
