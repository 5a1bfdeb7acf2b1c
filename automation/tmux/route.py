"""The tmux route as a ``core.protocols.Route``: ``TmuxDeliverer`` pastes prompts and presses
decided prompts' keys into each agent's pane, and stops a turn with its CLI's own interrupt
keys (``AgentCli.interrupt``: Escape, opencode's Escape twice, Aider's Ctrl+C), confirmed by
the pane (``interrupt``)."""

from __future__ import annotations

from collections.abc import Sequence

from automation.route_base import DelivererRoute
from automation.tmux.delivery import METHOD, TmuxDeliverer
from automation.tmux.interrupt import CONFIRM_S, Interrupted, Outcome
from core.clis import by_name
from core.models import Agent, Receipt
from core.protocols import Stop


class TmuxRoute(DelivererRoute[TmuxDeliverer]):
    """The agents with a tmux pane (``delivery = "tmux"``, and desktop agents when there is
    no desktop driver)."""

    name = METHOD

    @staticmethod
    def takes(agent: Agent) -> bool:
        """A tmux or desktop agent with a pane."""
        return agent.delivery in ("gui", METHOD) and bool(agent.tmux)

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """Failed: a pane's prompt is answered by keys (``press_keys``)."""
        return Receipt.failed(f"{agent.id} is not a protocol agent", METHOD, retryable=False)

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Into the agent's pane."""
        return await self.deliverer.press_keys(agent, keys)

    @staticmethod
    def can_stop(agent: Agent) -> bool:
        """An agent with a pane: its CLI's interrupt keys."""
        return TmuxRoute.takes(agent)

    async def stop_turn(self, agent: Agent) -> Stop:
        """Its CLI's interrupt keys pressed into its pane, unless it reads idle; confirmed
        by the pane read at its input again (``interrupt``)."""
        cli = by_name(agent.cli)
        if cli is None:
            return Stop.cannot("", 'its CLI is not known (cli = "..." in the agents file): no key')
        how = f"{' '.join(cli.interrupt)} in its tmux pane"
        try:
            done = await self.deliverer.interrupt(agent, cli)
        except OSError as exc:
            return Stop.cannot(how, f"not stopped: {exc}")
        return _stop_said(done, cli.title, how, len(cli.interrupt))


def _stop_said(done: Interrupted, title: str, how: str, keys: int) -> Stop:
    """What an interrupt came to, in words."""
    pressed = f"{title}'s interrupt {'keys' if keys > 1 else 'key'} pressed ({how})"
    match done.outcome:
        case Outcome.NOT_RUNNING:
            return Stop(False, how, "no turn was running (its pane reads idle): nothing pressed")
        case Outcome.IDLE:
            said = f"{pressed}: its pane reads idle {done.after_s:.1f} s after"
            return Stop(True, how, said, idle_seen=True)
        case Outcome.STILL_WORKING:
            return Stop(True, how, f"{pressed}, but its pane does not read idle {CONFIRM_S:g} s "
                                   "after")  # fmt: skip
        case Outcome.EXITED:
            return Stop(True, how, f"{pressed}, and its CLI exited (swarm desktop up starts it "
                                   "again)")  # fmt: skip
    return Stop(True, how, pressed)  # its pane read neither at work nor idle: unconfirmed
