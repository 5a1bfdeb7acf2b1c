"""``make test`` runs the suite on two xdist workers with ``--dist loadgroup``: the tests of
one ``xdist_group`` (each live CLI's module) must run on one worker, in order, so that its
module fixture starts the CLI once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

GROUPED = """
import os

import pytest

pytestmark = pytest.mark.xdist_group("one-cli")
STARTS = []


@pytest.fixture(scope="module")
def cli():
    STARTS.append(1)
    yield


@pytest.mark.parametrize("n", range(6))
def test_it(cli, n):
    with open(os.environ["RECORD"], "a") as out:
        out.write(f"{os.environ['PYTEST_XDIST_WORKER']} {n} {len(STARTS)}\\n")
"""


def test_a_groups_tests_run_on_one_worker_with_one_fixture_start(tmp_path: Path) -> None:
    """Before: pytest 9 ignored the node id xdist 3.8 gave a grouped test, so the group's
    tests went to both workers and its module fixture started on each."""
    (tmp_path / "test_grouped.py").write_text(GROUPED, encoding="utf-8")
    record = tmp_path / "record"
    # xdist and the suite's conftest, no other plugin: each of the three processes (the
    # controller, two workers) would import them all (hypothesis, anyio...) for nothing
    env = {**os.environ, "RECORD": str(record), "PYTHONPATH": str(ROOT),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-n", "2", "--dist",
         "loadgroup", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "test_grouped.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line.split() for line in record.read_text().splitlines()]
    assert len({worker for worker, _, _ in rows}) == 1, rows
    assert [int(n) for _, n, _ in rows] == list(range(6))
    assert {starts for _, _, starts in rows} == {"1"}
