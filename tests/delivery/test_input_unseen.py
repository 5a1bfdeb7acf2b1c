"""An agent whose input swarm cannot see on its pane (issue 53, item 5): held from new tasks
at the FIRST delivery that finds it so, with one alert at once (before: Gemini CLI in yolo
mode was handed three tasks in a row, each failing "its input is not on its pane", and the
alert came after the third); the hold ends when a delivery gets through."""

from __future__ import annotations

from pathlib import Path

from automation.failures import Failure
from core.agents import _alerts as alerts
from core.delivery._receipts import INPUT_NOT_ON_PANE
from core.models import Receipt, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import write_agents


async def two_agents(home: Path, tmp_path: Path, clock: ManualClock) -> SwarmService:
    config = write_agents(
        tmp_path / "agents.toml", [{"id": "A", "role": "dev"}, {"id": "B", "role": "dev"}]
    )
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    return await SwarmService.open(settings, clock)


async def open_alerts(service: SwarmService) -> list[tuple[str, str]]:
    return [(a.agent, a.kind) for a in await service.store.read(alerts.list_alerts)]


def test_the_reason_is_the_tmux_deliverers_own_words() -> None:
    assert str(Failure.NOT_AT_INPUT) == INPUT_NOT_ON_PANE


async def test_the_first_failure_holds_the_agent_with_one_alert(
    home: Path, tmp_path: Path, clock: ManualClock
) -> None:
    service = await two_agents(home, tmp_path, clock)
    try:
        first = await service.tasks.create(TaskSpec("first"), "me")
        await service.tasks.assign(first.id, "A", "me")  # pinned to A
        assert (await service.queue.assign_next()).agent == "A"  # type: ignore[union-attr]
        delivery = await service.queue.claim_delivery()
        assert delivery is not None and delivery.agent == "A"
        await service.queue.record_receipt(delivery, Receipt.failed(INPUT_NOT_ON_PANE))
        assert await open_alerts(service) == [("A", alerts.INPUT_UNSEEN)]
        (alert,) = await service.store.read(alerts.list_alerts)
        assert alert.text.startswith("A: its input is not on its pane")
        # the next task goes to B, not to A again
        second = await service.tasks.create(TaskSpec("second"), "me")
        made = await service.queue.assign_next()
        assert made is not None and (made.task_id, made.agent) == (second.id, "B")
        # A's own retry fails the same way: still one alert
        clock.advance(120.0)
        again = await service.queue.claim_delivery()
        assert again is not None and again.agent == "A"
        await service.queue.record_receipt(again, Receipt.failed(INPUT_NOT_ON_PANE))
        assert await open_alerts(service) == [("A", alerts.INPUT_UNSEEN)]
        # a delivery that gets through ends the hold
        clock.advance(600.0)
        third = await service.queue.claim_delivery()
        assert third is not None and third.agent == "A"
        await service.queue.record_receipt(third, Receipt.delivered("test"))
        assert await open_alerts(service) == []
    finally:
        await service.close()


async def test_a_dialog_or_another_failure_does_not_hold_it(
    home: Path, tmp_path: Path, clock: ManualClock
) -> None:
    service = await two_agents(home, tmp_path, clock)
    try:
        task = await service.tasks.create(TaskSpec("first"), "me")
        await service.tasks.assign(task.id, "A", "me")
        await service.queue.assign_next()
        delivery = await service.queue.claim_delivery()
        assert delivery is not None
        dialog = Receipt.failed("a dialog is open: Do you want to proceed?", deferred=True)
        await service.queue.record_receipt(delivery, dialog)
        clock.advance(60.0)
        delivery = await service.queue.claim_delivery()
        assert delivery is not None
        await service.queue.record_receipt(delivery, Receipt.failed("submit not seen"))
        assert await open_alerts(service) == []
    finally:
        await service.close()


async def test_a_cli_still_starting_is_waited_for_without_a_try_or_a_hold(
    home: Path, tmp_path: Path, clock: ManualClock
) -> None:
    """A delivery that finds its agent's CLI still starting (``Failure.STARTING``, deferred
    by the tmux deliverer and the desktop driver while the pane's process is young) uses no
    try and holds nothing: the task's next claims are not counted and no alert opens (before:
    a try used and an ``input-unseen`` alert asking the person to look at the terminal)."""
    service = await two_agents(home, tmp_path, clock)
    try:
        task = await service.tasks.create(TaskSpec("first"), "me")
        await service.tasks.assign(task.id, "A", "me")
        await service.queue.assign_next()
        for _ in range(5):  # the CLI draws for a while
            delivery = await service.queue.claim_delivery()
            assert delivery is not None and delivery.attempts == 1, delivery
            starting = Receipt.failed(str(Failure.STARTING), deferred=True)
            await service.queue.record_receipt(delivery, starting)
            assert await open_alerts(service) == []
            clock.advance(1.0)
        delivery = await service.queue.claim_delivery()
        assert delivery is not None and delivery.attempts == 1
        await service.queue.record_receipt(delivery, Receipt.delivered("test"))
        shown = await service.tasks.get(task.id)
        assert (shown.attempts, await open_alerts(service)) == (1, [])
    finally:
        await service.close()
