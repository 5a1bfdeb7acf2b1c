"""One backoff (issue 42, item 5): every retry loop's waits come from ``core.waits``.

The sequences each call site waited when it wrote its backoff by hand (before 26f8410)
are pinned here with the call sites' own parameters; a scan of bot/, core/ and automation/
keeps a hand-written exponential out.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, cast

import pytest

from bot.discordbot.settings import DiscordSettings
from core.ai._client import AIClient
from core.ai._settings import AISettings
from core.assignment import _leases as leases
from core.context import Ctx
from core.coordinator.notifier import MAX_BACKOFF_S
from core.coordinator.scheduler import MAX_ERROR_BACKOFF_S
from core.delivery._queue import RECEIPT_RETRY_FIRST_S, RECEIPT_RETRY_MAX_S
from core.settings import Settings
from core.store.postgres.failover import SchedulerLock
from core.waits import ErrorBackoff
from tests.helpers import ROOT
from tests.source_trees import parsed

# The waits after the 1st, 2nd, ... failure in a row, as each loop computed them by hand.
STREAKS = {
    # notifier: backoff = 1.0, then min(backoff * 2, MAX_BACKOFF_S)
    "notifier": ((1.0, MAX_BACKOFF_S), [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]),
    # scheduler step, delivery step, a failing timer: poll_s (0.5) doubled up to 60 s
    "scheduler": ((0.5, MAX_ERROR_BACKOFF_S), [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]),
    # receipts on the coordinator (queue) and on a node: 0.05 s doubled up to 5 s
    "receipts": (
        (RECEIPT_RETRY_FIRST_S, RECEIPT_RETRY_MAX_S),
        [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0],
    ),
}


@pytest.mark.parametrize("site", sorted(STREAKS))
def test_a_failing_loop_waits_as_it_did(site: str) -> None:
    (first_s, max_s), expected = STREAKS[site]
    backoff = ErrorBackoff(first_s, max_s)
    assert [backoff.failed() for _ in expected] == expected
    backoff.succeeded()
    assert backoff.failed() == first_s  # a success starts the streak over


def test_discord_reconnects_wait_as_they_did() -> None:
    """min(reconnect_max_s, reconnect_first_s * 2 ** (failures - 1)), failures from 1."""
    s = DiscordSettings()
    backoff = ErrorBackoff(s.reconnect_first_s, s.reconnect_max_s)
    waits = [backoff.failed() for _ in range(8)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_an_unreachable_database_is_tried_as_it_was() -> None:
    """The standby: poll_s, then doubled up to retry_max_s (failover_s 5 s: 1 s to 5 s)."""
    lock = SchedulerLock("postgresql://unused", 5.0)
    backoff = ErrorBackoff(lock.poll_s, lock.retry_max_s)
    waits = [backoff.failed() for _ in range(5)]
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_task_and_delivery_retries_wait_as_they_did(tmp_path: Path) -> None:
    """A task's requeue (leases.backoff, stored as not_before) and a delivery's retry:
    SWARM_RETRY_BACKOFF (5 s) * 2 ** max(attempts - 1, 0), at most 300 s."""
    ctx = Ctx({}, Settings(tmp_path, tmp_path / "swarm.toml"), 0.0, "test")
    waits = [leases.backoff(ctx, n) for n in range(0, 9)]
    assert waits == [5.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]
    assert leases.backoff(ctx, 10**6) == 300.0  # a long streak never overflows


@pytest.mark.parametrize(
    ("attempt", "retry_after", "wait"),
    [
        (1, None, 1.0),
        (2, None, 2.0),
        (4, None, 8.0),
        (6, None, 20.0),
        (1, 7.0, 7.0),
        (1, 99.0, 20.0),
    ],
)
def test_model_calls_wait_as_they_did(attempt: int, retry_after: float | None, wait: float) -> None:
    """SWARM_AI_BACKOFF (1 s) doubled per attempt up to 20 s; Retry-After wins, capped."""
    client = AIClient(AISettings(), cast(Any, None), cast(Any, None))
    assert client._backoff(attempt, retry_after) == wait


# The scan: an exponential in a try count, or a wait doubled in place, outside core/waits.py.
COUNTERS = ("attempt", "tries", "failure", "retry", "retries", "streak")


def _counts(node: ast.AST) -> bool:
    """``node`` reads a try count (``attempt``, ``self.failures``, ``n``, ...)."""
    names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    names += [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]
    return any(name.lower() == "n" or name.lower().startswith(COUNTERS) for name in names)


def _number(node: ast.AST, above: float = 1.0) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
        and node.value > above
    )


def _two(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (2, 2.0)


def _grown(target: ast.AST, value: ast.AST) -> bool:
    """``value`` multiplies ``target`` by a number above 1 (``delay = min(delay * 2, cap)``)."""
    same = ast.dump(target, include_attributes=False).replace("Store()", "Load()")
    for node in ast.walk(value):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for one, other in ((node.left, node.right), (node.right, node.left)):
                if _number(one) and ast.dump(other, include_attributes=False) == same:
                    return True
    return False


def hand_written(node: ast.AST) -> bool:
    """A backoff computed by hand at ``node``."""
    if isinstance(node, ast.BinOp) and not isinstance(node.right, ast.Constant):
        if isinstance(node.op, ast.Pow):  # 2 ** attempts, base * factor ** n
            return _counts(node.right) or _two(node.left)
        if isinstance(node.op, ast.LShift):  # 1 << failures
            return _number(node.left, 0.0) and _counts(node.right)
    if isinstance(node, ast.AugAssign):  # delay *= 2
        return isinstance(node.op, ast.Mult) and _number(node.value)
    if isinstance(node, ast.Assign):
        return any(_grown(target, node.value) for target in node.targets)
    if isinstance(node, ast.Call) and ast.unparse(node.func) in ("pow", "math.pow"):
        return len(node.args) > 1 and _counts(node.args[1])
    return False


def hand_written_lines(source: str) -> list[int]:
    """The lines of ``source`` that compute a backoff by hand."""
    nodes = ast.walk(parsed(source))
    return sorted(
        {n.lineno for n in nodes if isinstance(n, ast.stmt | ast.expr) and hand_written(n)}
    )


@pytest.mark.parametrize(
    "line",
    [
        "delay = min(cap, base * 2**attempt)",  # ruff writes a simple power without spaces
        "delay = min(cap, base * 2 ** (attempt - 1))",
        "delay = base * factor ** failures",
        "delay = base * (1 << tries)",
        "delay = min(delay * 2, cap)",
        "self.backoff = 2.0 * self.backoff",
        "wait_s *= 2",
        "delay = base * math.pow(2, retries)",
        "delay = base * pow(1.5, n)",
    ],
)
def test_the_scan_finds_a_backoff_written_by_hand(line: str) -> None:
    assert hand_written_lines(line) == [1]


@pytest.mark.parametrize(
    "line",
    [
        "MAX_ID = 2**63 - 1",
        "step = 10 ** math.floor(math.log10(rough))",
        "echo_s = 2 * self.interval_s",
        "patience_s = 2 * self.human_wait_s",
        "width = size * 2",
        "total *= 1",
        "flags = 1 << 20",
        "held = mask & (X.Button1Mask << (n - 1))",
        "area = side**2",
        "ratio = base ** now",
    ],
)
def test_the_scan_leaves_other_arithmetic_alone(line: str) -> None:
    assert hand_written_lines(line) == []


def test_no_retry_loop_computes_its_backoff_by_hand() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for top in ("core", "bot", "automation")
        for path in sorted((ROOT / top).rglob("*.py"))
        if path != ROOT / "core/waits.py"
        for n in hand_written_lines(path.read_text())
    ]
    assert found == []


def test_the_scan_sees_the_one_backoff_in_core_waits() -> None:
    assert hand_written_lines((ROOT / "core/waits.py").read_text()) != []
