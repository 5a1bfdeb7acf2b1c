"""Issue 77: the hook installer follows none of the agent's links. A sandboxed agent owns its
workspace, links included: a ``.claude`` folder linked to the person's own ``~/.claude``, a
settings file linked to the person's ``~/.docker/config.json``, or a link planted under the
temporary name the installer once used would have swarm (outside, as the person) read the
person's secret back into the worktree or write the agent's JSON over the person's
settings. ``swarm agents hooks install`` refuses each in one line, writes nothing, and leaves
the person's files as they were."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.clis import hook_files
from tests.helpers import run_cli

DOCKER = '{"auths": {"registry": {"auth": "DOCKER-SECRET"}}}\n'
SETTINGS = '{"theme": "the person\'s own"}\n'


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A home, the person's files, and agent A's workspace (a git checkout)."""
    home, person, work = tmp_path / "swarm", tmp_path / "person", tmp_path / "A"
    for folder in (home, person / ".docker", person / ".claude", work / ".git"):
        folder.mkdir(parents=True)
    (person / ".docker" / "config.json").write_text(DOCKER)
    (person / ".claude" / "settings.json").write_text(SETTINGS)
    config = tmp_path / "agents.toml"
    config.write_text(
        '[[agent]]\nid = "A"\nrole = "dev"\ndelivery = "inbox"\ncli = "claude-code"\n'
        f'hooks = true\nsandbox = true\nworkspace = "{work}"\n'
    )
    return home, person, work


def _install(tmp_path: Path, home: Path) -> tuple[int, str]:
    done = run_cli(home, "agents", "hooks", "install", "--agent", "A",
                   config=tmp_path / "agents.toml")  # fmt: skip
    return done.code, done.err


def test_a_settings_file_linked_to_a_secret_is_refused_not_read(tmp_path: Path) -> None:
    home, person, work = _setup(tmp_path)
    (work / ".claude").mkdir()
    (work / ".claude" / "settings.local.json").symlink_to(person / ".docker" / "config.json")
    code, err = _install(tmp_path, home)
    assert code != 0 and "symbolic link" in err and "nothing written" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert (work / ".claude" / "settings.local.json").is_symlink()  # left as it was
    assert (person / ".docker" / "config.json").read_text() == DOCKER
    assert "DOCKER-SECRET" not in "".join(
        p.read_text() for p in work.rglob("*") if p.is_file() and not p.is_symlink()
    )


def test_a_folder_linked_to_the_persons_claude_is_refused_not_written(tmp_path: Path) -> None:
    home, person, work = _setup(tmp_path)
    (work / ".claude").symlink_to(person / ".claude")
    code, err = _install(tmp_path, home)
    assert code != 0 and "symbolic link" in err, err
    assert sorted(os.listdir(person / ".claude")) == ["settings.json"]
    assert (person / ".claude" / "settings.json").read_text() == SETTINGS


def test_a_link_planted_under_a_temporary_name_is_never_written_through(tmp_path: Path) -> None:
    """The old installer's temporary name was ``.NAME.PID.tmp``: planted for this process's
    pid, a write through it would land on the person's settings."""
    _, person, work = _setup(tmp_path)
    (work / ".claude").mkdir()
    target = person / ".claude" / "settings.json"
    (work / ".claude" / f".settings.local.json.{os.getpid()}.tmp").symlink_to(target)
    hook_files.write_text(work / ".claude" / "settings.local.json", '{"hooks": {}}\n')
    assert target.read_text() == SETTINGS  # the person's settings untouched
    written = work / ".claude" / "settings.local.json"
    assert written.read_text() == '{"hooks": {}}\n' and not written.is_symlink()


@pytest.mark.timeout(60)
def test_a_fifo_or_huge_file_as_its_settings_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A FIFO made where the settings file goes held ``agents hooks install`` (and
    ``desktop up``) for good, waiting for a writer only the agent has (found by an attack
    audit); a file of gigabytes would be read whole. Each is refused in one line now."""
    home, _, work = _setup(tmp_path)
    (work / ".claude").mkdir()
    local = work / ".claude" / "settings.local.json"
    os.mkfifo(local)
    code, err = _install(tmp_path, home)
    assert code != 0 and "is not a regular file: nothing written" in err, err
    assert len(err.strip().splitlines()) == 1, err
    local.unlink()
    with local.open("wb") as big:
        big.truncate(hook_files.READ_MAX + 1)
    code, err = _install(tmp_path, home)
    assert code != 0 and "nothing written" in err and "KB" in err, err
