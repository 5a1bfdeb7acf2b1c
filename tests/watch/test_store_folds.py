"""``core.watch.store_folds``: while swarm runs, the git stores of the repositories its
sandboxed agents work in are folded every few seconds, so the person's own git reads what an
agent wrote only once it was checked (real git, a real store, swarm's real service)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from automation.launch.sandbox._objects import stores_of
from core.sandbox.object_stores import refusals
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.store_folds import StoreFolds
from tests.desktop.test_object_stores import _in_store
from tests.desktop.test_sandbox_argv import _worktree


async def test_a_running_loop_folds_its_sandboxed_agents_stores(tmp_path: Path) -> None:
    repo, work = _worktree(tmp_path)
    common = repo / ".git"
    (made, _), _ = stores_of(common / "worktrees" / "wt", common)
    store = Path(made)
    _in_store(work, store, "commit", "-q", "--allow-empty", "-m", "the agent's work")
    real = _in_store(work, store, "rev-parse", "HEAD")
    forged = "0" * 40  # its commit's bytes under a name they are not
    (store / "00").mkdir()
    shutil.copyfile(store / real[:2] / real[2:], store / "00" / forged[2:])
    config = tmp_path / "agents.toml"
    config.write_text(f'[[agent]]\nid = "A"\nrole = "dev"\ndelivery = "inbox"\n'
                      f'workspace = "{work}"\nsandbox = true\n')  # fmt: skip
    env = {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    service = await SwarmService.open(Settings.from_env(env))
    try:
        assert await StoreFolds(service).fire() == 1  # the agent's commit, moved
        assert await StoreFolds(service, node="elsewhere").fire() == 0  # not that node's
    finally:
        await service.close()
    assert not (store / "00" / forged[2:]).exists()
    assert (common / "objects" / real[:2] / real[2:]).is_file()
    assert [line.split(" ", 2)[2] for line in refusals(common)] == [
        f"wt's git store: object {forged} holds content that is not its name: removed (an "
        "agent's content under another object's name)"
    ]
    assert _subject(repo, real) == "the agent's work"  # the person's git reads it whole


def _subject(repo: Path, commit: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s", commit],
                          capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    return done.stdout.strip()
