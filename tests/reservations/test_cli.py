"""``swarm reserve|release|conflicts|reservations`` in-process over a real SQLite file: who the
caller is (``--agent`` or ``SWARM_AGENT``), one-line errors with nothing written."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli.main import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def swarm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    for name in [n for n in os.environ if n.startswith("SWARM_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SWARM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-user-config"))

    def run(*args: str, agent: str | None = None) -> tuple[int, str, str]:
        if agent:
            monkeypatch.setenv("SWARM_AGENT", agent)
        else:
            monkeypatch.delenv("SWARM_AGENT", raising=False)
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_reserve_conflicts_list_and_release(swarm: Run) -> None:
    run = swarm
    code, out, err = run("reserve", "src/**")
    assert code == 2 and err.startswith("swarm: error: say which agent you are")
    code, out, err = run("reserve", "src/", "--ttl", "30m", agent="Agent-1")
    assert code == 0 and out.startswith("reserved src/** for Agent-1 (exclusive, no task, until")
    code, out, err = run("reserve", "src/x.py", "--agent", "agent-2")
    assert code == 2 and err.count("\n") == 1
    assert "overlaps Agent-1's exclusive reservation src/** (no task): nothing reserved" in err
    code, out, err = run("reserve", "docs/*.md", "--shared", "--agent", "Agent-2")
    assert code == 0 and "(shared, no task, until released)" in out
    code, out, err = run("conflicts", "src/a/b.py", "docs/x.md", "README.md")
    assert out.splitlines() == [
        "src/a/b.py touches Agent-1's exclusive reservation src/** (no task)",
        "docs/x.md touches Agent-2's shared reservation docs/*.md (no task)",
    ]
    code, out, err = run("conflicts", "src/a/b.py", agent="Agent-1")  # not your own
    assert out == "no reservation touches src/a/b.py\n"
    code, out, err = run("reservations")
    lines = out.splitlines()
    assert lines[0].split() == ["agent", "pattern", "mode", "task", "since", "expires"]
    assert lines[1].split()[:4] == ["Agent-1", "src/**", "exclusive", "-"]
    assert lines[2].split()[:4] == ["Agent-2", "docs/*.md", "shared", "-"]
    code, out, err = run("release", agent="Agent-1")
    assert (code, out) == (0, "released 1 reservation of Agent-1\n")
    code, out, err = run("reservations", "--agent", "Agent-1")
    assert out == "no file reservations\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["reserve", "/etc/passwd", "--agent", "Agent-1"], "is absolute"),
        (["reserve", "a/../../b", "--agent", "Agent-1"], "has '..'"),
        (["reserve", "a", "--ttl", "soon", "--agent", "Agent-1"], "invalid period 'soon'"),
        (["reserve", "a", "--agent", "Nobody"], "unknown agent"),
        (["release", "--agent", "Nobody"], "unknown agent"),
        (["reservations", "check-commit"], "say which agent you are"),
    ],
)
def test_bad_input_is_one_line(swarm: Run, args: list[str], said: str) -> None:
    code, out, err = swarm(*args)
    assert code == 2 and out == "" and err.count("\n") == 1 and said in err, err
    code, out, err = swarm("reservations")
    assert out == "no file reservations\n"  # nothing written
