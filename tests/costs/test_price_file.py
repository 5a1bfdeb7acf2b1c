"""Issue 66, item 5: a price file (``SWARM_PRICES``) is checked when it is read. A bad one
(a price that is not a finite number of dollars from 0, a key no price has) is refused in one
line naming the file and the key by ``swarm run`` and ``swarm doctor``; a file that turns bad
while swarm runs keeps the last good table, said once in the log, and never drops a batch of
turn ends (real store, SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import pytest

from core.costs import prices
from core.errors import ConfigError
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.costs.test_ledger import ACP, Journal, rows, with_agents
from tests.helpers import run_cli

GOOD = '[models."local-model"]\ninput = 3\noutput = 4\n'
NAN = '[models."local-model"]\ninput = nan\noutput = 4\n'


def price_file(path: Path, text: str) -> Path:
    """``text`` in ``path``, its change time moved on (a rewrite within a tick is seen)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))
    return path


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (NAN, "input must be dollars per million tokens, not nan"),
        ('[models."m"]\ninput = 1\noutput = -2\n', "output must be dollars"),
        ('[models."m"]\ninput = 1\noutput = inf\n', "output must be dollars"),
        ('[models."m"]\ninput = 1\noutput = 2\ncache_reed = 1\n', "unknown key 'cache_reed'"),
        ('currency = "EUR"\n', "nothing else (not 'currency')"),
    ],
)
def test_a_bad_price_is_refused_naming_the_file_and_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    bad = price_file(tmp_path / "prices.toml", text)
    with pytest.raises(ConfigError, match=f"price file {bad}") as refused:
        prices.check(bad)
    assert key in str(refused.value) and "\n" not in str(refused.value)


def test_swarm_run_refuses_a_bad_price_file_and_the_doctor_reports_it(tmp_path: Path) -> None:
    bad = price_file(tmp_path / "prices.toml", NAN)
    env = {"SWARM_PRICES": str(bad)}
    run = run_cli(tmp_path / "home", "run", "--no-discord", "--burst", env=env)
    assert run.code == 2, run.out + run.err
    assert run.err.count("\n") == 1 and f"price file {bad}, model 'local-model': input" in run.err
    doctor = run_cli(tmp_path / "home", "doctor", "--no-discord", env=env)
    line = next(x for x in doctor.out.splitlines() if " prices " in x)
    assert line.startswith("PROBLEM") and f"{bad}, model 'local-model': input" in line
    price_file(bad, GOOD)
    doctor = run_cli(tmp_path / "home", "doctor", "--no-discord", env=env)
    assert "ok       prices       " in doctor.out and f"{bad} over swarm's own" in doctor.out


@pytest.mark.both_databases
async def test_a_price_file_gone_bad_while_running_keeps_the_last_good_table(
    settings: Settings, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mine = price_file(tmp_path / "mine.toml", GOOD)
    service = await SwarmService.open(dataclasses.replace(settings, prices_file=mine), clock)
    try:
        await with_agents(service, tmp_path)
        journal = Journal(service, "P2")
        await journal.turn(usage=ACP, meta={"model": "local-model"})
        price_file(mine, NAN)
        with caplog.at_level(logging.WARNING, logger="core.costs.prices"):
            await journal.turn(usage=ACP, meta={"model": "local-model"})
            await journal.turn(usage=ACP, meta={"model": "local-model"})
        price_file(mine, GOOD.replace("input = 3", "input = 5"))
        await journal.turn(usage=ACP, meta={"model": "local-model"})
        costs = [r["cost_usd"] for r in await rows(service)]
        good, new = (1000 * 3 + 500 * 4) / 1e6, (1000 * 5 + 500 * 4) / 1e6
        assert costs == [pytest.approx(c) for c in (good, good, good, new)]
        said = [r.getMessage() for r in caplog.records if r.name == "core.costs.prices"]
        assert len(said) == 1 and f"price file {mine}" in said[0]
        assert "the last good table" in said[0]
    finally:
        await service.close()


@pytest.mark.both_databases
async def test_a_price_file_bad_from_the_start_drops_no_turn_end(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    """A process that never read it good (a hook's, or the file broke before the first turn
    end) prices with swarm's own table: the batch of turn ends is taken in whole."""
    bad = price_file(tmp_path / "bad.toml", NAN)
    service = await SwarmService.open(dataclasses.replace(settings, prices_file=bad), clock)
    try:
        await with_agents(service, tmp_path)
        await Journal(service, "P2").turn(usage=ACP, meta={"model": "local-model"})
        found = await rows(service)
        assert [r["cost_usd"] for r in found] == [pytest.approx((1000 * 1 + 500 * 2) / 1e6)]
    finally:
        await service.close()
