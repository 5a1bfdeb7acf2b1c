"""Property: whatever the arguments and settings, the CLI exits 0 or 2; on 2 it prints one line
``swarm: error: ...`` and leaves the database as it was (but for the record of a person's
decision refused to an agent: an ``access.refused`` event and its audit row); it never prints
a traceback.

The CLI's ``main`` runs in-process (a few milliseconds per input). ``SWARM_FUZZ_EXAMPLES``
raises the number of inputs (docs/reliability.md quotes a long run).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli.main import main

pytestmark = pytest.mark.timeout(300)
EXAMPLES = int(os.environ.get("SWARM_FUZZ_EXAMPLES", "250"))

COMMANDS = [
    ["task", "add"],
    ["task", "list"],
    ["task", "show"],
    ["task", "start"],
    ["task", "done"],
    ["task", "fail"],
    ["task", "cancel"],
    ["task", "retry"],
    ["task", "assign"],
    ["task", "depend"],
    ["send"],
    ["broadcast"],
    ["status"],
    ["events"],
    ["agents"],
    ["agents", "pause"],
    ["agents", "resume"],
    ["alerts"],
    ["schedule", "list"],
    ["schedule", "remove"],
    ["export"],
    ["stats"],
    ["gc", "--dry-run"],
    ["gc"],
    ["approve"],
    ["resume"],
    [],
]
TOKENS = [
    "T-1",
    "T-2",
    "t-3",
    "1",
    "0",
    "-1",
    "Agent-1",
    "agent-2",
    "Agent-9",
    "--json",
    "--limit",
    "--note",
    "--reason",
    "--force",
    "--priority",
    "urgent",
    "--after",
    "--details",
    "--role",
    "qa",
    "--status",
    "done",
    "--agent",
    "--capability",
    "99999999999999999999",
    "1e400",
    "nan",
    "inf",
    "-0",
    "",
    " ",
    "\udcff",
    "\x1b[2J",
    "a\rb",
    "line\nbreak",
    "@everyone",
    "--as",
    "--period",
    "--what",
    "--format",
    "--keep-days",
    "٣",
    "T-٣",
    "--help",
]
SETTINGS = [
    "SWARM_LEASE",
    "SWARM_MAX_ATTEMPTS",
    "SWARM_RETRY_BACKOFF",
    "SWARM_MAX_TEXT",
    "SWARM_DELIVERY_ATTEMPTS",
    "SWARM_BUSY_TIMEOUT",
    "SWARM_AGENT",
    "SWARM_KEEP_DAYS",
]
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "0", "-1", "3", "0.5", "1_0", "٣"]),
)
TEXT = st.text(max_size=30).filter(lambda s: "\x00" not in s)
ARG = st.one_of(st.sampled_from(TOKENS), TEXT)


# the record of a refusal (bot/cli/trust.py), which an exit 2 may leave
RECORDS = {
    "events": "SELECT * FROM events WHERE kind <> 'access.refused'",
    "audit": "SELECT * FROM audit WHERE allowed = 1",
}


def _digest(db: Path) -> str:
    found = hashlib.sha256()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall():
            read = RECORDS.get(table, f"SELECT * FROM {table}")
            found.update(repr(conn.execute(read).fetchall()).encode())
    return found.hexdigest()


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return int(exc.code or 0)


def _allowed(argv: list[str]) -> bool:
    """Leave out what never returns (``events --follow``) or waits for a person."""
    return not any(
        a.startswith(("--fo", "-f", "--co")) or a in ("-f", "calibrate", "check") for a in argv
    )


def test_cli_exits_0_or_2_with_one_line_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    for name in [k for k in os.environ if k.startswith("SWARM_") or k == "DISPLAY"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SWARM_HOME", str(home))
    assert _run(["task", "add", "seed"]) == 0
    assert _run(["task", "add", "second", "--after", "T-1"]) == 0
    db = home / "swarm.db"
    tried: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(
        command=st.sampled_from(COMMANDS),
        tail=st.lists(ARG, max_size=5),
        env=st.dictionaries(st.sampled_from(SETTINGS), st.one_of(NUMBERS, TEXT), max_size=2),
    )
    def check(command: list[str], tail: list[str], env: dict[str, str]) -> None:
        argv = command + tail
        if not _allowed(argv):
            return
        tried.append(1)
        before = _digest(db)
        capsys.readouterr()
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            code = _run(argv)
        out, err = capsys.readouterr()
        assert "Traceback" not in err + out, (argv, env, err)
        assert code in (0, 2), (argv, env, code, err)
        if code == 2 and "--help" not in argv:
            assert err.startswith("swarm: error: ") and err.count("\n") == 1, (argv, env, err)
            assert _digest(db) == before, (argv, env, err)

    check()
    print(f"fuzzed the CLI with {len(tried)} inputs: 0 tracebacks")
    assert len(tried) > EXAMPLES // 2
