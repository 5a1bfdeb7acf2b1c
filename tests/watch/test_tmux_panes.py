"""The agents file's tmux pane and reading a pane's text through a real tmux server."""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core import tmux as tmux_module
from core.agents_file import load_agents
from core.errors import ConfigError
from core.tmux import SharedReads, capture, capture_all
from tests.config.test_toml_files import assert_one_line_error
from tests.helpers import run_cli, write_agents
from tests.tmux_server import Tmux, wait_text

# -- the agents file --------------------------------------------------------------------------


def test_tmux_pane_and_cli_keys_are_read(tmp_path: Path) -> None:
    path = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "A", "role": "dev", "tmux": "swarm:3", "cli": "claude-code"},
            {"id": "B", "role": "dev", "tmux": " swarm:agents.1 ", "tmux_socket": "~/t.sock"},
            {"id": "C", "role": "dev"},
        ],
    )
    a, b, c = load_agents(path)
    assert (a.tmux, a.tmux_socket, a.cli) == ("swarm:3", None, "claude-code")
    assert (b.tmux, b.tmux_socket) == ("swarm:agents.1", str(Path("~/t.sock").expanduser()))
    assert (c.tmux, c.cli) == (None, None)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"tmux": "swarm"}, 'agent A: tmux must be a tmux target "session:window"'),
        ({"tmux": "swarm:3.x"}, "agent A: tmux must be a tmux target"),
        ({"tmux": "a b:1"}, "agent A: tmux must be a tmux target"),
        ({"tmux": 3}, 'agent A: tmux must be a string like "swarm:3"'),
        ({"tmux_socket": "/tmp/s"}, "agent A: tmux_socket needs a tmux pane"),
        ({"tmux": "s:1", "tmux_socket": "rel/sock"}, "tmux_socket must be an absolute path"),
        ({"cli": "Claude Code"}, "agent A: cli must be the name of a rule file"),
    ],
)
def test_bad_tmux_keys_are_one_line_errors(tmp_path: Path, extra: dict[str, object],
                                           words: str) -> None:  # fmt: skip
    path = write_agents(tmp_path / "agents.toml", [{"id": "A", "role": "dev", **extra}])
    with pytest.raises(ConfigError) as caught:
        load_agents(path)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_swarm_agents_shows_the_pane(home: Path, tmp_path: Path) -> None:
    path = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev", "tmux": "swarm:3", "cli": "codex"}, {"id": "B", "role": "dev"}],
    )
    shown = run_cli(home, "agents", config=path)
    assert shown.code == 0, shown
    header, first, second = shown.out.splitlines()[:3]
    assert header.split()[-1] == "TMUX" and first.split()[-1] == "swarm:3"
    assert second.split()[-1] == "-"
    rows = json.loads(run_cli(home, "agents", "--json", config=path).out)
    assert [(r["tmux"], r["cli"]) for r in rows] == [("swarm:3", "codex"), (None, None)]
    bad = write_agents(tmp_path / "bad.toml", [{"id": "A", "role": "dev", "tmux": "swarm"}])
    assert_one_line_error(run_cli(home, "agents", config=bad), "agent A: tmux must be")


# -- reading a pane ---------------------------------------------------------------------------


def test_a_pane_is_read_and_a_gone_pane_is_evidence(tmux: Tmux) -> None:
    tmux.window("swarm", "one", "printf 'hello\\n\\033[31mred\\033[0m   \\n'; sleep 60")
    lines = wait_text(tmux.ref("swarm:one"), "red")
    assert lines == ["hello", "red"]  # no colours, no trailing blanks
    assert wait_text(tmux.ref("swarm:0"), "red") == lines  # the window's index works too
    missing = capture(tmux.ref("swarm:nine"))
    assert not missing.ok
    assert missing.gone == "tmux pane swarm:nine is gone: can't find window: nine"
    assert "can't find pane" in str(capture(tmux.ref("swarm:one.4")).gone)
    assert "can't find session" in str(capture(tmux.ref("other:1")).gone)
    tmux.stop()
    stopped = capture(tmux.ref("swarm:one"))
    assert stopped.gone is not None and stopped.gone.startswith("tmux pane swarm:one is gone: ")


def test_pane_text_is_escaped_for_showing(tmux: Tmux) -> None:
    tmux.window("swarm", "one", "printf 'a\\033]0;title\\007b\\n'; sleep 60")
    wait_text(tmux.ref("swarm:one"), "ab")
    read = capture(tmux.ref("swarm:one"))
    assert read.lines and all("\x1b" not in line and "\x07" not in line for line in read.last(5))


def test_the_panes_of_one_server_are_read_by_one_tmux_client(
    tmux: Tmux, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "tmux-calls"
    counting = tmp_path / "tmux"  # the real tmux, each client start noted
    counting.write_text(f'#!/bin/sh\necho x >> {calls}\nexec {shutil.which("tmux")} "$@"\n')
    counting.chmod(0o755)
    for name, text in (("one", "first"), ("two", "second"), ("three", "third")):
        tmux.window("swarm", name, f"printf '{text}\\n'; sleep 60")
        wait_text(tmux.ref(f"swarm:{name}"), text)
    refs = [tmux.ref(f"swarm:{name}") for name in ("one", "two", "three")]
    monkeypatch.setattr(tmux_module, "TMUX", str(counting))
    read = capture_all([*refs, refs[0]])
    assert [p.lines[0] for p in read] == ["first", "second", "third", "first"]
    assert len(calls.read_text().split()) == 1  # one client for the three panes
    with_gone = capture_all([refs[1], tmux.ref("swarm:nine"), refs[2]])  # each alone then
    assert [p.lines[:1] for p in with_gone] == [("second",), (), ("third",)]
    assert with_gone[1].gone == "tmux pane swarm:nine is gone: can't find window: nine"


def test_threads_reading_panes_at_once_share_tmux_clients_and_each_gets_its_own(
    tmux: Tmux, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deliveries to many panes poll them at once (a broadcast to 32 agents: a tmux client
    per poll per pane took most of 2 cores): the reads waiting together are one client's,
    and each thread gets its own pane's text, a gone pane its reason."""
    calls = tmp_path / "tmux-calls"
    slow = tmp_path / "tmux"  # the real tmux, each client noted and slow to start
    slow.write_text(f'#!/bin/sh\necho x >> {calls}\nsleep 0.2\nexec {shutil.which("tmux")} "$@"\n')
    slow.chmod(0o755)
    names = [f"w{n}" for n in range(8)]
    for name in names:
        tmux.window("swarm", name, f"printf 'text of {name}\\n'; sleep 60")
        wait_text(tmux.ref(f"swarm:{name}"), f"text of {name}")
    monkeypatch.setattr(tmux_module, "TMUX", str(slow))
    reads = SharedReads()
    start = threading.Barrier(len(names) + 1)

    def poll(name: str) -> list[tuple[str, ...] | str | None]:
        start.wait()
        return [(p.lines[:1] if p.ok else p.gone) for p in
                (reads.capture(tmux.ref(f"swarm:{name}")) for _ in range(3))]  # fmt: skip

    with ThreadPoolExecutor(len(names) + 1) as pool:
        seen = list(pool.map(poll, [*names, "gone"]))
    assert seen[:-1] == [[(f"text of {name}",)] * 3 for name in names]
    assert seen[-1] == ["tmux pane swarm:gone is gone: can't find window: gone"] * 3
    # 27 reads, each alone a client; a batch with the gone pane: two more (it alone, the rest)
    assert reads.clients + 3 * 2 >= len(calls.read_text().split()) < 27 / 2


def test_a_read_that_raises_reaches_every_waiting_thread_as_the_error(
    tmux: Tmux, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error while reading a batch is raised in each thread that waited for it
    (a delivery then fails retryably, logged as a driver error), never turned into "gone",
    which fails a delivery for good; the next reads work again."""
    tmux.window("swarm", "one", "printf 'first\\n'; sleep 60")
    wait_text(tmux.ref("swarm:one"), "first")
    reads, real = SharedReads(), tmux_module.capture_all

    def broken(refs: object, timeout: float) -> object:
        time.sleep(0.3)  # the other threads queue meanwhile
        raise RuntimeError("tmux answered nonsense")

    monkeypatch.setattr(tmux_module, "capture_all", broken)

    def poll(_: int) -> str:
        try:
            reads.capture(tmux.ref("swarm:one"))
        except RuntimeError as exc:
            return str(exc)
        return "read"

    with ThreadPoolExecutor(3) as pool:
        seen = list(pool.map(poll, range(3)))
    assert seen == ["tmux answered nonsense"] * 3
    monkeypatch.setattr(tmux_module, "capture_all", real)
    assert reads.capture(tmux.ref("swarm:one")).lines[:1] == ("first",)
