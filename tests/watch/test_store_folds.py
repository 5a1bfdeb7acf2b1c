"""``core.watch.store_folds``: while swarm runs, the git stores of the repositories its
sandboxed agents work in are folded every few seconds, so the person's own git reads what an
agent wrote only once it was checked, and what was refused of an agent's store is its
"Needs you" alert until the person removed the record (real git, a real store, swarm's real
service and store)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from core.agents import GIT_REFUSED, open_kinds
from core.history.event_queries import last_events
from core.sandbox.object_stores import REFUSED, fold, refusals
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import Conn
from core.watch.store_folds import StoreFolds
from tests.desktop.test_object_stores import forge


async def test_a_running_loop_folds_its_sandboxed_agents_stores(tmp_path: Path) -> None:
    planted = forge(tmp_path)  # its commit's bytes under a name they are not
    repo, work, common, real = planted.repo, planted.work, planted.common, planted.real
    forged = "0" * 40
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
    assert not planted.forged.exists()
    assert (common / "objects" / real[:2] / real[2:]).is_file()
    assert [line.split(" ", 2)[2] for line in refusals(common)] == [
        f"wt's git store: object {forged} holds content that is not its name: removed (an "
        "agent's content under another object's name)"
    ]
    assert _subject(repo, real) == "the agent's work"  # the person's git reads it whole


async def test_a_refusal_by_any_fold_is_its_agents_alert_until_its_record_is_removed(
    tmp_path: Path,
) -> None:
    planted = forge(tmp_path)
    work, common = planted.work, planted.common
    fold(common)  # swarm's own git folded it (a `task diff`, in another process)
    config = tmp_path / "agents.toml"
    config.write_text(f'[[agent]]\nid = "A"\nrole = "dev"\ndelivery = "inbox"\n'
                      f'workspace = "{work}"\nsandbox = true\n'
                      '[[agent]]\nid = "B"\nrole = "dev"\ndelivery = "inbox"\n')  # fmt: skip
    env = {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    service = await SwarmService.open(Settings.from_env(env))
    try:
        folds = StoreFolds(service)
        assert await folds.fire() == 0  # nothing left to move: the record is what it reads
        assert await service.store.read(open_kinds) == {"A": {GIT_REFUSED}}
        said = await service.store.read(_alert_events)
        assert [kind for kind, _ in said] == ["alert.opened"]
        assert said[0][1].startswith("A: swarm refused what its git store held (1 on record")
        assert f"object {'0' * 40} holds content that is not its name" in said[0][1]
        assert await folds.fire() == 0  # the same record: nothing written again
        assert len(await service.store.read(_alert_events)) == 1
        (common / REFUSED).unlink()  # the person read it (swarm doctor) and removed it
        await folds.fire()
        assert await service.store.read(open_kinds) == {}
        assert [kind for kind, _ in await service.store.read(_alert_events)] == [
            "alert.opened", "alert.cleared"]  # fmt: skip
    finally:
        await service.close()


def _alert_events(conn: Conn) -> list[tuple[str, str]]:
    return [(e.kind, e.text) for e in last_events(conn, 100) if e.kind.startswith("alert.")]


def _subject(repo: Path, commit: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s", commit],
                          capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    return done.stdout.strip()
