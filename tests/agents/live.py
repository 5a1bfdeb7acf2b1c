"""The real agent CLIs for the live tests: where each is, at its pinned version, and how one
runs in a private tmux server against ``python -m localmodel``.

A CLI's binary is ``SWARM_<CLI>_BIN`` when set, else its install in ``.cache/agents``
(``make agents``), else the CLI's name on PATH; it must say the pinned version (``--version``).
Missing or another version: the test skips with the reason on a developer's machine and fails
when ``SWARM_REQUIRE_AGENTS=1`` (CI).
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localmodel import AdminClient

from core.agents._text_rules import RuleSet, TextMatch, classify, load_rule_sets
from core.clis import CLIS, panes
from tests.conftest import skip_or_fail
from tests.helpers import ROOT
from tests.tmux_server import Tmux, wait_text
from tools.install_agents import PINS, Pin

CACHE = ROOT / ".cache" / "agents"
REQUIRE = "SWARM_REQUIRE_AGENTS"
# the environment variable naming each CLI's binary (``SWARM_CLAUDE_BIN``: its program's
# name), and its name on PATH
OVERRIDES = {
    cli.name: (f"SWARM_{cli.programs[0].upper().replace('-', '_')}_BIN", cli.programs[0])
    for cli in CLIS
}
_VERSION = re.compile(r"\d+\.\d+\.\d+")
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


def pin(cli: str) -> Pin:
    """The pinned version of ``cli`` (tools/install_agents.py)."""
    return next(p for p in PINS if p.cli == cli)


def find_binary(cli: str) -> tuple[Path | None, str]:
    """``cli``'s binary at its pinned version, or None and why not."""
    wanted = pin(cli)
    variable, name = OVERRIDES[cli]
    hint = f"make agents, or set {variable}"
    named = os.environ.get(variable)
    if named:
        binary: Path | None = Path(named)
        where = f"{variable}={named}"
    else:
        on_path = shutil.which(name, path=os.environ.get("PATH"))
        candidates = [CACHE / wanted.binary, *([Path(on_path)] if on_path else [])]
        binary = next((c for c in candidates if _executable(c)), None)
        where = str(binary)
    if binary is None or not _executable(binary):
        return None, f"{cli} {wanted.version} is not installed ({hint})"
    found = binary_version(str(binary))
    if found != wanted.version:
        return None, f"{where} is {cli} {found or '(no version)'}, not {wanted.version} ({hint})"
    return binary, ""


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


@functools.cache
def binary_version(binary: str) -> str | None:
    """The first x.y.z that ``binary --version`` prints."""
    try:
        done = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "NO_COLOR": "1"}, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = _VERSION.search(done.stdout + done.stderr)
    return found.group(0) if found else None


def require_binary(cli: str) -> Path:
    """``cli``'s binary, else skip (fail under ``SWARM_REQUIRE_AGENTS=1``) with the reason."""
    binary, reason = find_binary(cli)
    if binary is None:
        skip_or_fail(reason, REQUIRE)
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (apt-get install tmux)", REQUIRE)
    assert binary is not None
    return binary


class LocalModel:
    """``python -m localmodel --port 0 --script FILE`` as a process, with its admin client."""

    def __init__(self, root: Path, script: str) -> None:
        path = root / "script.toml"
        path.write_text(script, encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localmodel", "--port", "0", "--script", str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), f"localmodel did not start: {self.url!r}"
        self.admin = AdminClient(self.url)
        self.seen: list[dict[str, Any]] = []

    def requests(self) -> list[dict[str, Any]]:
        """Every request recorded so far (only the new ones fetched: a conversation's
        requests grow with it, and a long run's record was read whole at every look)."""
        self.seen += self.admin.requests(since=self.seen[-1]["seq"] if self.seen else 0)
        return list(self.seen)

    def wait_request(self, prompt: str, path: str = "", timeout: float = 30.0) -> dict[str, Any]:
        """The first recorded request whose latest prompt contains ``prompt`` (and whose path
        contains ``path``)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                r
                for r in self.requests()
                if prompt in str(r.get("prompt") or "") and path in r["path"]
            ]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"no request with {prompt!r}: {self.requests()}"
            time.sleep(0.1)

    def asked_within(self, prompt: str, seconds: float) -> bool:
        """Whether a request whose latest prompt contains ``prompt`` is recorded within
        ``seconds`` (looked for every 0.1 s)."""
        deadline = time.monotonic() + seconds
        while not any(prompt in str(r.get("prompt") or "") for r in self.requests()):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def release_until(self, prompt: str, path: str, timeout: float = 30.0) -> None:
        """Release the held answers (a step's ``delay``) until the request on ``path`` whose
        latest prompt contains ``prompt`` is let go: a side request held before it (Gemini
        CLI's router asks first) is released on the way. A request is held from its
        arrival on: one recorded before a release is let go by it."""
        deadline = time.monotonic() + timeout
        while True:
            here = any(prompt in str(r.get("prompt") or "") and path in r["path"]
                       for r in self.requests())  # fmt: skip
            self.admin.release()
            if here:
                return
            assert time.monotonic() < deadline, f"no request with {prompt!r}: {self.requests()}"
            time.sleep(0.1)

    def stop(self) -> None:
        """Terminate the server."""
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class LiveCLI:
    """A real CLI running in a private tmux server's pane."""

    tmux: Tmux
    target: str
    model: LocalModel
    root: Path

    def send(self, text: str, enter_after: float = 0.5) -> None:
        """Paste ``text`` bracketed (load-buffer, paste-buffer -p), Enter once the pane shows
        it and has held still for 0.2 s, as swarm's tmux deliverer does (at most
        ``enter_after`` after the paste)."""
        source = self.root / "paste.txt"
        source.write_text(text, encoding="utf-8")
        before = self.screen()
        self.tmux.run("load-buffer", "-b", "prompt", str(source))
        self.tmux.run("paste-buffer", "-p", "-d", "-b", "prompt", "-t", self.target)
        self._landed(before, time.monotonic() + enter_after)
        self.tmux.run("send-keys", "-t", self.target, "Enter")

    def _landed(self, before: str, until: float) -> None:
        """Back once the pane differs from ``before`` and then holds still 0.2 s, or at
        ``until``."""
        last, still_since = before, None
        while time.monotonic() < until:
            time.sleep(0.03)
            now = self.screen()
            if now != last:
                last, still_since = now, time.monotonic()
            elif still_since is not None and time.monotonic() - still_since >= 0.2:
                return

    def keys(self, *keys: str) -> None:
        """Press ``keys`` (tmux key names)."""
        self.tmux.run("send-keys", "-t", self.target, *keys)

    def wait(self, text: str, timeout: float = 30.0) -> list[str]:
        """The pane's lines once ``text`` shows."""
        return wait_text(self.tmux.ref(self.target), text, timeout)

    def wait_any(self, texts: tuple[str, ...], timeout: float = 30.0) -> str:
        """The first of ``texts`` the pane shows."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            found = next((text for text in texts if text in screen), None)
            if found is not None:
                return found
            assert time.monotonic() < deadline, f"none of {texts} showed: {screen}"
            time.sleep(0.1)

    def wait_last(self, line: str, timeout: float = 30.0) -> str:
        """The pane once its last non-blank line (trailing spaces aside) is ``line``."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            lines = [x.rstrip() for x in screen.split("\n") if x.strip()]
            if lines and lines[-1] == line:
                return screen
            assert time.monotonic() < deadline, f"the last line never was {line!r}: {lines[-5:]}"
            time.sleep(0.05)

    def screen(self) -> str:
        """The pane as a watcher reads it (``capture-pane -p -J``)."""
        done = subprocess.run(
            ["tmux", "-S", str(self.tmux.socket), "capture-pane", "-p", "-J", "-t", self.target],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
        return done.stdout


def start(
    name: str, root: Path, model: LocalModel, argv: list[str], env: Mapping[str, str], cwd: Path
) -> LiveCLI:
    """``argv`` in a new tmux server's 120x40 pane, with only ``env`` in its environment."""
    words = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]
    command = " ".join(shlex.quote(word) for word in words)  # a value may hold & or ;
    tmux = Tmux(root / "tmux.sock")
    tmux.run("new-session", "-d", "-s", name, "-x", "120", "-y", "40", "-c", str(cwd), command)
    tmux.run("set-option", "-t", name, "remain-on-exit", "on")  # a crash stays readable
    return LiveCLI(tmux, f"{name}:0", model, root)


def base_env(home: Path) -> dict[str, str]:
    """What every CLI gets: its own HOME, a terminal, UTF-8, no colour preferences, and a
    temporary folder of its own: a user's home is never under the temporary folder, and
    Codex 0.169.0 makes the helper its shell's sandbox runs under bubblewrap in
    ``$CODEX_HOME`` only when that is not under it ("Refusing to create helper binaries
    under temporary dir"; its shell commands then failed: ``execvp codex-linux-sandbox``)."""
    tmp = home.parent / f"{home.name}-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return {"PATH": BASE_PATH, "HOME": str(home), "TERM": "xterm-256color", "LANG": "C.UTF-8",
            "TMPDIR": str(tmp)}  # fmt: skip


def reading(live: LiveCLI, cli: str, screen: str | None = None) -> TextMatch | None:
    """What swarm reads on the live pane now (or on ``screen``, a capture of it just taken)
    with ``cli``'s bundled rule file."""
    text = live.screen() if screen is None else screen
    return classify(rules_of(cli), text.split("\n"), time.time())


@functools.cache
def rules_of(cli: str) -> RuleSet:
    """``cli``'s bundled rule file, parsed once: a pane polled every 0.05 s parsed every
    rule file at each look (9 ms of CPU)."""
    return {rs.cli: rs for rs in load_rule_sets(None)[0]}[cli]


def save_pane(live: LiveCLI, cli: str, what: str, screen: str | None = None) -> None:
    """With ``SWARM_SAVE_PANES=1``, the pane (or ``screen``, a capture of it just taken)
    saved as the fixture ``<cli>-<version>-<what>.txt`` (how the fixtures under
    core/clis/<cli>/panes were captured)."""
    if os.environ.get("SWARM_SAVE_PANES") != "1":
        return
    folder = panes(cli)
    folder.mkdir(parents=True, exist_ok=True)
    text = live.screen() if screen is None else screen
    (folder / f"{cli}-{pin(cli).version}-{what}.txt").write_text(text, encoding="utf-8")


def capture_when(live: LiveCLI, text: str, timeout: float = 30.0) -> str:
    """The first capture of the pane that shows ``text`` (a screen that may pass quickly)."""
    deadline = time.monotonic() + timeout
    while text not in (screen := live.screen()):
        assert time.monotonic() < deadline, f"{text!r} never showed: {screen}"
        time.sleep(0.05)
    return screen


_SECONDS = re.compile(r"\d+s\b")  # a spinner's time: "(esc to cancel, 4s)", "(10s · ↓ 2 tokens)"


def until_seconds_move(live: LiveCLI, since: str, timeout: float = 15.0) -> None:
    """Until the times the pane shows ("4s", "6m 58s") are not those of the capture ``since``:
    a spinner's clock has moved on (a look after this one sees a later time than any look
    before ``since`` was taken)."""
    before = _SECONDS.findall(since)
    deadline = time.monotonic() + timeout
    while _SECONDS.findall(screen := live.screen()) == before:
        assert time.monotonic() < deadline, f"its time never moved: {screen}"
        time.sleep(0.1)


@dataclass
class Counted:
    """A few turns of an agent as the ledger and as localmodel counted them: the ledger's
    turns (rows) and sums (``Spent``), and the model requests made meanwhile (the admin
    endpoint's records, each with the ``usage`` its answer reported)."""

    rows: list[dict[str, Any]]
    spent: Any
    requests: list[dict[str, Any]]

    def server(self, counted: Callable[[dict[str, Any]], bool]) -> tuple[int, int, int, int]:
        """localmodel's sums (input, output, cache read, cache write) over the requests
        ``counted`` keeps (a cache field the dialect does not report counts 0)."""
        sums = [0, 0, 0, 0]
        for request in self.requests:
            usage = request.get("usage")
            if usage is None or not counted(request):
                continue
            for index, name in enumerate(("input", "output", "cache_read", "cache_write")):
                sums[index] += usage[name] or 0
        return sums[0], sums[1], sums[2], sums[3]

    @property
    def ledger(self) -> tuple[int, int, int, int]:
        """The ledger's sums for the agent: input, output, cache read, cache write."""
        return self.spent.input, self.spent.output, self.spent.cache_read, self.spent.cache_write


async def usage_of_turns(
    live: LiveCLI,
    cli: str,
    tmp_path: Path,
    folder: tuple[str, Path] | None,
    ready: Callable[[], object],
    turns: list[Callable[[], object]],
    extra: Mapping[str, object] | None = None,
) -> Counted:
    """Issue 51, item 4: ``live`` as agent A of swarm (in its tmux pane, a task held), the
    CLI's own files read by swarm's usage watch from ``folder`` (its variable and path, as in
    the environment swarm runs with; None: none, the agent's ``extra`` fields of the agents
    file say where, e.g. ``cli_dir``); ``ready()`` waits for the CLI at its input, each of
    ``turns`` sends a prompt and waits until it answered and is at its input again. The
    ledger's turns and the agent's sums once a watch tick read each turn, beside the model
    requests localmodel recorded from the first tick on."""
    import asyncio

    from core.costs import ledger
    from core.models import TaskSpec
    from core.service.swarm import SwarmService
    from core.settings import Settings
    from core.watch.usage_files import UsageFiles
    from tests.helpers import write_agents

    agent: dict[str, object] = {"id": "A", "role": "dev", "tmux": live.target, "cli": cli,
                                "tmux_socket": str(live.tmux.socket),
                                "workspace": str(live.root / "work"), **(extra or {})}  # fmt: skip
    config = write_agents(tmp_path / "agents.toml", [agent])
    (tmp_path / "home").mkdir()
    env = {
        "SWARM_HOME": str(tmp_path / "home"),
        "SWARM_CONFIG": str(config),
        **({folder[0]: str(folder[1])} if folder else {}),
    }
    service = await SwarmService.open(Settings.from_env(env))
    try:
        task = await service.tasks.create(TaskSpec("count", agent="A"), "test")
        await service.queue.assign_batch()
        watch = UsageFiles(service.store)
        ready()
        await watch.tick()  # the first look: the session's earlier turns are not counted
        before = live.model.admin.requests(since=0)
        since = before[-1]["seq"] if before else 0
        for turn in turns:
            turn()
            deadline = time.monotonic() + 30
            while not await watch.tick():
                assert time.monotonic() < deadline, f"no turn read from {cli}'s files"
                await asyncio.sleep(0.5)
        spend = await service.costs.of_task(task.id)
        day = time.strftime("%Y-%m-%d", time.gmtime())
        agent_day = await service.store.read(ledger.of_agent_day, "A", day)
        assert agent_day.to_json() | {"key": ""} == spend["cost"].to_json() | {"key": ""}
        counted = Counted(spend["turns"], spend["cost"], live.model.admin.requests(since=since))
        total = live.model.admin.usage(since)["total"]  # the admin endpoint's sums agree
        every = (
            total["input"],
            total["output"],
            total["cache_read"] or 0,
            total["cache_write"] or 0,
        )
        assert counted.server(lambda _: True) == every
        return counted
    finally:
        await service.close()


def offers_tools(request: dict[str, Any]) -> bool:
    """Whether a recorded request offers the model tools: one of the agent's conversation (its
    prompts and tool results), not a CLI's side request (a title, Gemini CLI's router)."""
    body = request.get("body")
    return isinstance(body, dict) and bool(body.get("tools"))


def check_ledger_is_localmodels(counted: Counted, side: Callable[[dict[str, Any]], bool]) -> None:
    """The rule for a tmux agent's turns "count my tokens" then "make a file": the agent's
    ledger sums (input, output, cache read, cache write) are exactly localmodel's over the
    requests that offer tools (the three of its conversation: 4321 in and 87 out scripted,
    then the shell call and the answer after it, tokens estimated from what was sent); every
    other request is a side request ``side`` knows (the CLI writes it nowhere swarm reads),
    so the ledger is below localmodel's total by exactly those (opencode asks for a title
    only at a session's first prompt: later turns may have none; a title stream the CLI left
    before its end reported no usage)."""
    conversation = [r for r in counted.requests if offers_tools(r)]
    others = [r for r in counted.requests if not offers_tools(r)]
    assert all(side(r) for r in others), [(r["prompt"], r["path"]) for r in others]
    assert len(conversation) == 3, [r["outcome"] for r in conversation]
    assert "shell" in conversation[1]["outcome"], conversation[1]["outcome"]
    unanswered = [(r["seq"], r["status"], r["prompt"]) for r in conversation if r["usage"] is None]
    statuses = [r["status"] for r in counted.requests]
    assert all(status == 200 for status in statuses), statuses
    assert not unanswered, unanswered  # a side request's stream the CLI left has no usage
    first = counted.rows[0]
    assert (first["input_tokens"] + first["cache_read_tokens"] + first["cache_write_tokens"],
            first["output_tokens"]) == (4321, 87), first  # fmt: skip
    assert counted.ledger == counted.server(offers_tools)
    if any(r["usage"] for r in others):  # what they reported is not the agent's turns'
        assert counted.ledger[:2] != counted.server(lambda _: True)[:2]


async def pane_swarm(home: Path, folder: Path, live: LiveCLI, cli: str, clock: Any = None) -> Any:
    """A swarm on ``home`` whose one agent, A, is ``live``'s tmux pane, read with ``cli``'s
    rules (its agents file in ``folder``): the service, opened."""
    from core.service.swarm import SwarmService
    from core.settings import Settings
    from tests.helpers import write_agents

    config = write_agents(
        folder / "agents.toml",
        [{"id": "A", "role": "dev", "tmux": live.target, "tmux_socket": str(live.tmux.socket),
          "cli": cli}],
    )  # fmt: skip
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    return await SwarmService.open(settings, clock)
