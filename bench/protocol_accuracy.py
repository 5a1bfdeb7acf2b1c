"""State accuracy on the protocol route (issue 50, item 8): what swarm reads of each pinned
real CLI under its protocol host while the model is made to do each thing, against what it
is doing; the confusion matrix beside ``bench/live_accuracy.py``'s for the tmux route.

Run: ``.venv/bin/python bench/protocol_accuracy.py [--cli gemini ...] [--looks 6] [--json]``.
Each CLI is started as ``swarm desktop up --protocol`` starts it for a user (its own HOME,
none of the settings that quiet it: tests/agents/test_protocol_live.py's ``started``),
against ``python -m localmodel``. Prompts are messages delivered by swarm's scheduler
through its routing deliverer; the state read is the agent's judged state after a fire of
swarm's protocol watch (``ProtocolWatch``), as ``swarm agents`` shows it. Phases and their
truth: at its input after start and after an answer (``idle``); the model holding its answer
8 s before the first byte, and streaming a slow answer (``working``); a shell command it
asks about (``waiting``: Claude Code and Gemini CLI ask at their defaults); a 429
(``limited``: retried by Claude Code, Gemini CLI and opencode, not by Codex); a 400
(``errored``). Each phase is looked at ``--looks`` times 0.5 s apart once the CLI has had
time to show it; a turn still running after a phase is cancelled (``session/cancel``).
Prints per CLI and in all: the confusion matrix (truth → read), ``waiting`` recall, the
share of ``idle`` readings that are not, and every misread with its evidence.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from automation.protocol.watch import ProtocolWatch  # noqa: E402
from automation.routes import build_deliverer  # noqa: E402
from bench.live_accuracy import Tally, run_bench  # noqa: E402
from bench.live_accuracy import script as tmux_script  # noqa: E402
from core.agents import Freshness  # noqa: E402
from core.agents import signals as agent_signals  # noqa: E402
from core.coordinator.prompt_keys import PromptKeys  # noqa: E402
from core.coordinator.scheduler import Scheduler  # noqa: E402
from core.dialogs import permissions as prompts  # noqa: E402
from core.hosts import client  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from tests.agents.launch import SETUPS  # noqa: E402
from tests.agents.live import LocalModel, require_binary  # noqa: E402
from tests.agents.test_protocol_live import QUIETING, Rig, started, work_folder  # noqa: E402

CLIS = ("claude-code", "codex", "gemini", "opencode")
ASKS = ("claude-code", "gemini")  # ask before a shell command at their defaults
AGENT = "A"


class Run:
    """One CLI under its host, driven through the phases, read by swarm's protocol watch."""

    def __init__(self, rig: Rig, service: SwarmService, looks: int) -> None:
        self.rig, self.service, self.looks = rig, service, looks
        self.tally = Tally(rig.cli)
        self.deliverer = build_deliverer(
            rig.settings, list(service.agents.values()), service.kill_switch
        )
        self.watch = ProtocolWatch(service, Freshness())
        self.keys = PromptKeys(service, self.deliverer, None)
        self.bursts: list[asyncio.Task[object]] = []

    async def read(self) -> tuple[str, str]:
        """The agent's judged state and its evidence, after a fire of the watch."""
        await self.watch.fire()
        row = await self.service.store.read(agent_signals.get_state, AGENT)
        return row.state.value, row.evidence

    async def look(self, phase: str, truth: str) -> None:
        """``looks`` looks 0.5 s apart, each recorded against ``truth``."""
        for _ in range(self.looks):
            read, why = await self.read()
            self.tally.seen.append((phase, truth, read, why))
            await asyncio.sleep(0.5)

    async def send(self, text: str) -> None:
        """``text`` sent and delivered by swarm's scheduler (its burst runs on: a protocol
        delivery ends when the agent took the prompt, its first update, which a held answer
        holds back); returns once the model has it."""
        before = len(self.rig.model.requests())
        await self.service.messages.send(AGENT, text, "bench")
        self.bursts.append(asyncio.create_task(Scheduler(self.service, self.deliverer).run_burst()))
        deadline = time.monotonic() + 60
        while True:
            await self.watch.fire()
            requests = self.rig.model.requests()[before:]
            if any(text in str(r.get("prompt") or "") for r in requests):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.rig.cli}: {text!r} never reached the model")
            await asyncio.sleep(0.2)

    async def settle(self, seconds: float) -> None:
        """Wait ``seconds``, the watch taking in what comes meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await self.watch.fire()
            await asyncio.sleep(0.2)

    async def until_idle(self, within_s: float = 60.0) -> None:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if (await self.read())[0] == "idle":
                return
            await asyncio.sleep(0.2)

    async def cancel(self) -> None:
        """End a turn that goes on (``session/cancel``), then let it settle."""
        await client.cancel(self.rig.home, AGENT, wait_s=10.0)
        await self.settle(3)
        await self.until_idle(30)

    async def phases(self) -> None:
        await self.watch.start()
        await self.settle(3)
        await self.look("at its input after start", "idle")
        await self.answered("take your time", 1.5, "the model holding its answer")
        await self.look("at its input after an answer", "idle")
        await self.answered("stream it slowly", 3, "a slow answer streaming")
        if self.rig.cli in ASKS:
            await self.send("make a file")
            await self.asked()
            await self.look("its permission request", "waiting")
            await self.refuse()
        await self.interrupted("hit the rate limit", "a 429", "limited")
        await self.interrupted("send a bad request", "a 400", "errored")

    async def answered(self, prompt: str, after_s: float, phase: str) -> None:
        """``prompt`` answered: looked at ``after_s`` into its turn (working), then waited
        for until its turn ends and 2 s more."""
        await self.send(prompt)
        await self.settle(after_s)
        await self.look(phase, "working")
        await self.until_idle()
        await self.settle(2)

    async def asked(self, within_s: float = 60.0) -> None:
        deadline = time.monotonic() + within_s
        while not await self.service.store.read(prompts.open_prompts, AGENT):
            assert time.monotonic() < deadline, f"{self.rig.cli}: no permission request"
            await self.settle(0.2)
        await self.settle(1)

    async def refuse(self) -> None:
        """The request's last option (its "no") decided and sent back; the turn left."""
        (prompt,) = await self.service.store.read(prompts.open_prompts, AGENT)
        await self.service.store.write("bench", prompts.decide, prompt.id, prompt.options[-1].key)
        await self.keys.fire()
        await self.settle(3)
        if (await self.read())[0] != "idle":
            await self.cancel()

    async def interrupted(self, prompt: str, phase: str, truth: str) -> None:
        """``prompt`` failed by the model; looked at 4 s later, then the turn cancelled if
        it goes on (a CLI that retries)."""
        await self.send(prompt)
        await self.settle(4)
        await self.look(phase, truth)
        if (await self.read())[0] != "idle":
            await self.cancel()
        await self.settle(2)

    async def close(self) -> None:
        await asyncio.gather(*self.bursts, return_exceptions=True)
        await self.watch.stop()
        self.deliverer.close()


async def run_cli(cli: str, tmp: Path, looks: int) -> Tally:
    root = tmp / cli
    root.mkdir()
    work = work_folder(root)
    model = LocalModel(root, tmux_script(cli))
    setup = SETUPS[cli](require_binary(cli), root / "home", work, model.url)
    env = {k: v for k, v in setup.env.items() if k not in QUIETING}
    with started(cli, root, model, " ".join(setup.argv), env) as rig:
        service = await SwarmService.open(rig.settings)
        run = Run(rig, service, looks)
        try:
            await run.phases()
        finally:
            await run.close()
            await service.close()
    return run.tally


async def main() -> None:
    await run_bench(__doc__ or "", CLIS, run_cli)


if __name__ == "__main__":
    asyncio.run(main())
