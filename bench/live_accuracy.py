"""State accuracy over live runs: what swarm's text watcher reads on each pinned real CLI while
the model is made to do each thing, against what it is doing.

Run: ``.venv/bin/python bench/live_accuracy.py [--cli gemini ...] [--looks 6] [--json]``.
Each CLI (tests/agents/launch.py: its own HOME, against ``python -m localmodel``) is driven
through phases whose truth the script makes: at its input after start and after an answer
(``idle``); the model holding its answer 8 s before the first byte, and streaming a slow
answer (``working``); a shell command it asks about (``waiting``: Claude Code, Gemini CLI,
Aider; Codex and opencode run it unasked here); a 429 (``limited``: retried by Claude Code,
Gemini CLI, Aider and opencode, not by Codex); a 400 (``errored``). Each phase is looked at
``--looks`` times 0.5 s apart through swarm's ``TextWatcher`` (the pane, and Gemini CLI's
debug log, named as ``swarm desktop up`` names it), once the CLI has had time to show it
(the transitions themselves are not labelled). Prints per CLI and in all: the confusion
matrix (truth → read), ``waiting`` recall, the share of ``idle`` readings that are not, and
every misread with its evidence.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from automation.tmux.delivery import tmux_key  # noqa: E402
from core.agents import load_rule_sets  # noqa: E402
from core.clis import by_name  # noqa: E402
from core.clis.logs import log_path  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.watch.text_signal import TextWatcher  # noqa: E402
from tests.agents.launch import CLIS, launch, stop  # noqa: E402
from tests.agents.live import LiveCLI  # noqa: E402
from tests.helpers import write_agents  # noqa: E402

WORDS = " ".join(f"word{n}" for n in range(1, 41))
SCRIPT = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "take your time"
steps = [{{ text = "slowly, piece by piece", delay = 8 }}]

[[turns]]
match = "stream it slowly"
steps = [{{ text = "{WORDS}", chunk_chars = 4, chunk_delay = 0.25 }}]

[[turns]]
match = "make a file"
steps = [{{ text = "Creating it.", shell = "touch made.txt" }}, {{ text = "file made" }}]

[[turns]]
match = "hit the rate limit"
steps = [{{limit}}]

[[turns]]
match = "send a bad request"
steps = [{{ fail = 400{{model}} }}, {{ text = "never" }}]
"""
AIDER_FILE = '{ text = "Run this:\\n\\n```bash\\ntouch made.txt\\n```\\n" }'


@dataclass(frozen=True)
class Drive:
    """How one CLI is driven: its 429, its dialog and the keys that leave it."""

    limit: str  # the 429 step
    dialog: str | None  # the text of its shell-command dialog (None: it asks none here)
    refuse: tuple[str, ...] = ("Escape",)  # leaves the dialog
    cancel: tuple[str, ...] = ("Escape",)  # ends a turn that retries
    model: str = ""  # failures only for this model (Gemini: not its router's)
    file_step: str | None = None  # the "make a file" turn's first step, when not a tool call


DRIVES = {
    "claude-code": Drive('{ rate_limit = true, retry_after = 40, reset_in = 300 }',
                         "Do you want to proceed?"),
    "codex": Drive('{ rate_limit = true, reset_in = 20 }', None, cancel=()),
    "gemini": Drive('{ rate_limit = true, retry_after = 20, model = "3.8-flash" }',
                    "Allow execution of [Shell]?", model="3.8-flash"),
    "aider": Drive('{ rate_limit = true, reset_in = 20 }', "Run shell command?",
                   refuse=("n", "Enter"), cancel=("C-c",), file_step=AIDER_FILE),
    "opencode": Drive('{ rate_limit = true, retry_after = 20 }', None,
                      cancel=("Escape", "Escape")),
}  # fmt: skip


def script(cli: str) -> str:
    drive = DRIVES[cli]
    model = f', model = "{drive.model}"' if drive.model else ""
    text = SCRIPT.replace("{limit}", drive.limit).replace("{model}", model)
    if drive.file_step:
        first = '{ text = "Creating it.", shell = "touch made.txt" }, { text = "file made" }'
        text = text.replace(first, drive.file_step)
    return text


@dataclass
class Tally:
    """What was read in each phase of one CLI."""

    cli: str
    seen: list[tuple[str, str, str, str]] = field(default_factory=list)  # phase, truth, read, why

    def summary(self) -> dict[str, object]:
        return summary(self.cli, self.seen)


def summary(name: str, seen: list[tuple[str, str, str, str]]) -> dict[str, object]:
    """The confusion matrix, waiting recall, false idle and misreads of ``seen``."""
    matrix = Counter(f"{truth} -> {read}" for _, truth, read, _ in seen)
    waiting = [read for _, truth, read, _ in seen if truth == "waiting"]
    idle = [truth for _, truth, read, _ in seen if read == "idle"]
    wrong = Counter(
        f"{phase}: {truth} read {read} ({why[:160]})"
        for phase, truth, read, why in seen
        if truth != read
    )
    return {
        "cli": name,
        "looks": len(seen),
        "right": sum(truth == read for _, truth, read, _ in seen),
        "waiting_recall": f"{waiting.count('waiting')} of {len(waiting)}",
        "false_idle": f"{sum(t != 'idle' for t in idle)} of {len(idle)}",
        "matrix": dict(sorted(matrix.items())),
        "misread": dict(wrong),
    }


class Run:
    """One CLI driven through the phases, its pane read by swarm's text watcher."""

    def __init__(self, cli: str, live: LiveCLI, text: TextWatcher, looks: int) -> None:
        self.cli, self.live, self.text, self.looks = cli, live, text, looks
        self.tally = Tally(cli)
        self.drive = DRIVES[cli]
        known = by_name(cli)
        self.clear = known.clear if known is not None else ("ctrl+e", "ctrl+u")

    async def look(self, phase: str, truth: str) -> None:
        """``looks`` looks 0.5 s apart, each recorded against ``truth``."""
        if os.environ.get("LIVE_ACCURACY_SHOW"):
            outcomes = [(r["prompt"], r.get("outcome")) for r in self.live.model.requests()[-3:]]
            print(f"--- {self.cli}: {phase}\n{self.live.screen()}\n{outcomes}", file=sys.stderr)
        for _ in range(self.looks):
            (seen,) = await self.text.tick()
            self.tally.seen.append((phase, truth, seen.state.value, seen.evidence))
            await asyncio.sleep(0.5)

    def ask(self, prompt: str, any_request: bool = False) -> None:
        """Send ``prompt`` and wait until the model server has it (Enter again if not); with
        ``any_request``, until it has any new request (after a refused tool call the CLI
        sends the refusal with the prompt, which the script takes as the old turn's)."""
        before = len(self.live.model.requests())
        self.live.send(prompt)
        for _ in range(10):
            if self._asked(prompt, 1.0, before if any_request else None):
                return
            self.live.keys("Enter")
        raise AssertionError(
            f"{self.cli}: {prompt!r} never reached the model:\n{self.live.screen()}"
        )

    def _asked(self, prompt: str, within: float, before: int | None) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            requests = self.live.model.requests()
            if before is not None and len(requests) > before:
                return True
            if any(prompt in str(r.get("prompt") or "") for r in requests):
                return True
            time.sleep(0.1)
        return False

    async def settle(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def steady(self, still_s: float, within_s: float) -> None:
        """Until the pane has not changed for ``still_s`` (at most ``within_s``)."""
        deadline = time.monotonic() + within_s
        shown, since = self.live.screen(), time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - since < still_s:
            await asyncio.sleep(0.25)
            now = self.live.screen()
            if now != shown:
                shown, since = now, time.monotonic()

    async def phases(self) -> None:
        await self.settle(3)
        await self.look("at its input after start", "idle")
        await self.answered("take your time", 1.5, "the model holding its answer", "slowly, piece")
        await self.look("at its input after an answer", "idle")
        await self.answered("stream it slowly", 3, "a slow answer streaming", "word40")
        if self.drive.dialog is not None:
            self.ask("make a file")
            self.live.wait(self.drive.dialog, timeout=60)
            await self.settle(1)
            await self.look("its shell-command dialog", "waiting")
            self.live.keys(*self.drive.refuse)
            await self.settle(3)
            self.ask("never mind", any_request=True)  # the refusal goes with it
            await self.settle(4)
        await self.interrupted("hit the rate limit", "a 429", "limited")
        await self.interrupted("send a bad request", "a 400", "errored", steady=True)

    async def answered(self, prompt: str, after_s: float, phase: str, last: str) -> None:
        """``prompt`` answered: looked at ``after_s`` into its turn (working), then waited
        for until its ``last`` words show and 3 s more."""
        self.ask(prompt)
        await self.settle(after_s)
        await self.look(phase, "working")
        self.live.wait(last, timeout=60)
        await self.settle(3)

    async def interrupted(self, prompt: str, phase: str, truth: str, steady: bool = False) -> None:
        """``prompt`` failed by the model; looked at 4 s later (``steady``: once its screen
        has not changed for 2 s, within 20 s: an error is an end the CLI may take a while to
        show), then the turn cancelled where it goes on."""
        self.ask(prompt)
        await self.settle(4)
        if steady:
            await self.steady(2.0, 20.0)
        await self.look(phase, truth)
        for key in self.drive.cancel:  # one at a time ("esc again to interrupt")
            self.live.keys(key)
            await self.settle(0.5)
        if self.drive.cancel:
            await self.settle(2)  # an interrupted prompt may come back into the input: cleared
            self.live.keys(*(tmux_key(key) for key in self.clear))
        await self.settle(3)


async def run_cli(cli: str, tmp: Path, looks: int) -> Tally:
    home = tmp / f"{cli}-swarm"
    log_path(home, "A").parent.mkdir(parents=True)
    env = {"GEMINI_DEBUG_LOG_FILE": str(log_path(home, "A"))} if cli == "gemini" else {}
    live = launch(cli, tmp / cli, script(cli), env=env)
    config = write_agents(
        tmp / f"{cli}-agents.toml",
        [{"id": "A", "role": "dev", "tmux": live.target, "tmux_socket": str(live.tmux.socket),
          "cli": cli}],
    )  # fmt: skip
    service = await SwarmService.open(
        Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    )
    text = TextWatcher(service, load_rule_sets(None)[0])
    run = Run(cli, live, text, looks)
    try:
        await run.phases()
    finally:
        await text.close()
        await service.close()
        stop(live)
    return run.tally


def report(results: list[dict[str, object]], printer: Callable[[str], None] = print) -> None:
    for got in results:
        printer(f"{got['cli']:12} {got['right']}/{got['looks']} right, waiting recall "
                f"{got['waiting_recall']}, false idle {got['false_idle']}")  # fmt: skip
        for key, count in dict(got["matrix"]).items():  # type: ignore[call-overload]
            printer(f"    {key}: {count}")
        for key, count in dict(got["misread"]).items():  # type: ignore[call-overload]
            printer(f"    misread x{count}: {key}")


async def run_bench(
    doc: str, clis: Sequence[str], run_cli: Callable[[str, Path, int], Awaitable[Tally]]
) -> None:
    """A state-accuracy bench's command line: each chosen CLI of ``clis`` run by
    ``run_cli`` (its tally), printed as it ends, then the figures of all."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--cli", action="append", choices=clis, help="default: all of them")
    parser.add_argument("--looks", type=int, default=6, help="looks per phase (default 6)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tallies = []
    with tempfile.TemporaryDirectory(prefix="swarm-accuracy-") as tmp:
        for cli in args.cli or clis:
            tallies.append(await run_cli(cli, Path(tmp), args.looks))
            if not args.json:
                report([tallies[-1].summary()])
    every = [seen for tally in tallies for seen in tally.seen]
    results = [t.summary() for t in tallies] + [summary("all", every)]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        report(results[-1:])


async def main() -> None:
    await run_bench(__doc__ or "", CLIS, run_cli)


if __name__ == "__main__":
    asyncio.run(main())
