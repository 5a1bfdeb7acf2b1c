"""Issue 67: ``sandbox = true`` runs an agent's CLI under bubblewrap. A probe run inside the
agent's session (its tmux pane; the command its protocol host spawns) cannot read swarm's
database, the user's SSH key or another agent's worktree, cannot write outside its
worktree, cannot see or signal swarm's processes; it commits in its worktree and reports
through its door (``swarm task start/done``), where a person's decision is refused. The same
probe without the sandbox reaches all of it: the tests' teeth."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.launch.sandbox import door_pid
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig, assign


def _need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed")


@pytest.fixture
def box(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SandboxRig]:
    _need("tmux", "bwrap", "git")
    sandbox, protocol = request.param
    rig = SandboxRig(tmp_path, sandbox=sandbox, protocol=protocol)
    yield rig
    rig.swarm("desktop", "down", "--headless")
    rig.tmux("kill-server")


def _up(rig: SandboxRig, *args: str) -> None:
    done = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", *args)
    assert done.returncode == 0, done.stdout + done.stderr


def _assert_fenced(rig: SandboxRig, got: dict[str, str], swarm_pid: int) -> None:
    assert got["db"] == "hidden" and got["ssh"] == "hidden", got
    assert "secret.txt" not in got["other"], got
    assert not (rig.root / "outside").exists()  # its /tmp and its home are its own
    assert not (rig.user / "left-in-home").exists()
    assert got["usr"] == "refused" and got["kill"] == "unseen", (got, swarm_pid)
    assert int(got["procs"]) <= 8, got  # its own process namespace
    assert got["commit"] == "ok", got
    # the shared .git: objects and refs for its commits, never what runs code outside (its
    # hooks, its config, a worktree's commondir) nor another worktree's git folder
    shared = (got["hooks"], got["config"], got["commondir"], got["othergit"])
    assert shared == ("refused",) * 4, got
    # other branches' refs and the person's checkout's HEAD: not moved, by git or by hand;
    # a branch of its own can still be made
    refs = (got["mainref"], got["otherref"], got["rawref"], got["userhead"])
    assert refs == ("refused",) * 4 and got["newbranch"] == "made", got
    # nor the main checkout's index or state (a MERGE_HEAD: the person's next commit would
    # merge its work unasked), the object stores git reads beside its own, the tags
    common = (got["index"], got["gitroot"], got["alternates"], got["tag"])
    assert common == ("refused",) * 4, got
    # nor a ref other than a branch: the person's stash (its list the reflog of refs/stash,
    # shared by every worktree) is not its to push onto or drop from, nor its notes
    assert (got["stash"], got["noteref"]) == ("refused", "refused"), got
    assert not (rig.repo / ".git" / "refs" / "stash").exists()
    # nor the repository's objects (its own store at their path, theirs shown read-only):
    # outside, the person's history is whole and reads the agent's commits too
    assert (got["objects"], got["shared"]) == ("refused", "refused"), got
    assert rig.first_object().is_file()
    fsck = rig.fsck()
    assert fsck.returncode == 0 and "made" in rig.commits(), fsck.stdout + fsck.stderr
    # it commits as the person (their identity passed in), never seeing their ~/.gitconfig
    assert got["gitconfig"] in ("hidden", ""), got
    assert got["ident"] == "Pat Person <pat@example.com>", got
    # and git itself answers it (a CLI that asks git before committing, as Aider does)
    assert got["configured"] == "Pat Person <pat@example.com>", got
    log = rig.swarm("task", "show", "T-1").stdout
    assert "status:      done" in log, log  # reported through its door
    assert "rc 0" in got["start"] and "rc 0" in got["done"], got
    assert "rc 2" in got["approve"] and "pass the door" in got["approve"], got


@pytest.mark.timeout(180)
@pytest.mark.parametrize("box", [(True, False)], indirect=True)
async def test_a_sandboxed_pane_reaches_its_worktree_and_its_door_only(box: SandboxRig) -> None:
    _up(box, "--agents", "1")
    await assign(box)  # after up: a new session hands back what its agent held
    door = door_pid(box.home, "Agent-1")
    assert door is not None  # one of swarm's processes, outside the sandbox
    got = box.probe_pane(door)
    _assert_fenced(box, got, door)
    assert "made" in box.commits()  # its commit is in the repository, seen from outside
    door_swarm = str(box.home / "doors" / "Agent-1" / "swarm")
    outside = box.run([door_swarm, "task", "done", "T-1"])  # from no agent's terminal
    assert outside.returncode == 2 and "not Agent-1's terminal" in outside.stderr, outside


@pytest.mark.timeout(180)
@pytest.mark.parametrize("box", [(False, False)], indirect=True)
def test_without_the_sandbox_the_same_probe_reaches_everything(box: SandboxRig) -> None:
    assert box.swarm("task", "add", "probe").returncode == 0  # the database made
    _up(box, "--agents", "1")
    first = box.first_object()
    got = box.probe_pane(os.getpid())
    assert got["db"] == "read" and got["ssh"] == "SECRET-KEY", got
    assert "secret.txt" in got["other"] and got["kill"] == "alive", got
    shared = (got["hooks"], got["config"], got["commondir"], got["othergit"])
    assert shared == ("wrote",) * 4, got
    refs = (got["mainref"], got["otherref"], got["rawref"], got["userhead"])
    assert refs == ("wrote",) * 4, got
    common = (got["index"], got["gitroot"], got["alternates"], got["tag"])
    assert common == ("wrote", "wrote", "wrote", "made"), got
    assert (got["stash"], got["noteref"]) == ("made", "wrote"), got
    assert got["objects"] == "deleted" and not first.exists(), got
    assert (box.root / "outside").exists() and int(got["procs"]) > 8, got
    assert "start" not in got  # no door: its swarm would be the database's


@pytest.mark.timeout(180)
@pytest.mark.parametrize("box", [(True, True)], indirect=True)
async def test_a_sandboxed_protocol_agent_is_fenced_and_its_host_is_not(box: SandboxRig) -> None:
    """The host stays outside (swarm reaches its socket); the command it spawns is fenced."""
    await assign(box)
    script, out = box.write_probe(), box.ws["Agent-1"] / "probe.out"
    box.env.update(PROBE_SCRIPT=str(script), PROBE_OUT=str(out), PROBE_PID=str(os.getpid()))
    _up(box, "--protocol", "--agents", "1")
    got = box.read(out)
    _assert_fenced(box, got, os.getpid())
    hello = box.swarm("desktop", "status", "--headless", "--json")
    assert hello.returncode == 0 and "Agent-1" in hello.stdout, hello.stderr
    assert json.loads(hello.stdout)  # the host answers from outside the sandbox


LOG_ALL = """\
out="$1"
{
echo "all=$(git log --all --format=%s 2>&1 | tr '\\n' ' ')"
echo "end=1"
} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("box", [(True, False)], indirect=True)
def test_another_worktrees_store_made_after_its_start_is_read_inside(box: SandboxRig) -> None:
    _up(box, "--agents", "1")
    # Agent-2 started sandboxed after it (its store made, every store listed) and committed
    _commit_as_agent_2(box, "in-its-own-store")
    assert "in-its-own-store" in box.commits()  # outside, through its alternates
    script, out = box.ws["Agent-1"] / "log.sh", box.ws["Agent-1"] / "log.out"
    script.write_text(LOG_ALL)
    assert (
        box.tmux("send-keys", "-t", "swarm-Agent-1", f"sh {script} {out}", "Enter").returncode == 0
    )
    got = box.read(out)
    # inside Agent-1, every branch reads whole: Agent-2's commit in its store, no error
    assert "in-its-own-store" in got["all"] and "error" not in got["all"], got


FORGE = """\
out="$1"; target="$2"
{
store="$(git rev-parse --git-common-dir)/objects"
forged=$(git commit-tree -m forged-by-agent-1 "$(git rev-parse 'HEAD^{tree}')")
mkdir -p "$store/$(echo "$target" | cut -c1-2)"
cp "$store/$(echo "$forged" | cut -c1-2)/$(echo "$forged" | cut -c3-)" \\
   "$store/$(echo "$target" | cut -c1-2)/$(echo "$target" | cut -c3-)" && echo planted=yes
echo "end=1"
} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("box", [(True, False)], indirect=True)
def test_an_object_an_agent_plants_under_another_agents_commit_is_never_read_as_it(
    box: SandboxRig, caplog: pytest.LogCaptureFixture
) -> None:
    """Agent-1, from its pane, puts in its own store a commit of its making under the name
    of Agent-2's commit. git reads the first store that has a name and checks no content:
    the repository's alternates list Agent-1's store first, so git alone reads the forgery
    as Agent-2's work. Swarm's git folds the stores first: each object checked against its
    name, the forgery removed and said, Agent-2's real commit moved into the repository's
    own store (searched first), so every git reads it after; ``swarm doctor`` says it."""

    from core.workspaces import git

    _up(box, "--agents", "1")
    _commit_as_agent_2(box, "agent-2-s-work")
    real = _plain_git(box, "rev-parse", "Agent-2")
    _plant(box, real, "one")
    assert _plain_git(box, "log", "-1", "--format=%s", real) == "forged-by-agent-1"  # the plant
    with caplog.at_level("WARNING"):
        shown = git(box.repo, "log", "-1", "--format=%s", real).strip()
    assert shown == "agent-2-s-work"
    assert f"object {real} holds content that is not its name: removed" in caplog.text
    assert _plain_git(box, "log", "-1", "--format=%s", real) == "agent-2-s-work"
    assert (box.repo / ".git" / "objects" / real[:2] / real[2:]).is_file()  # the person's now
    fsck = box.fsck()
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    doctor = box.swarm("doctor")  # said where the person looks, until they remove the record
    assert "PROBLEM" in doctor.stdout and f"object {real} holds content" in doctor.stdout, (
        doctor.stdout
    )


def _commit_as_agent_2(rig: SandboxRig, message: str) -> None:
    """Agent-2 started sandboxed (its store made, every store listed), and a commit of its
    in its own store, as its git inside writes one."""
    import subprocess

    from automation.launch.sandbox._binds import mounts
    from core.models import Sandbox

    other = rig.ws["Agent-2"]
    ((store, objects),) = mounts(other, rig.user, Sandbox(), (), (), None).own
    env = {**rig.env, "GIT_OBJECT_DIRECTORY": store, "GIT_ALTERNATE_OBJECT_DIRECTORIES": objects}
    subprocess.run(["git", "-C", str(other), "-c", "user.name=b", "-c", "user.email=b@b",
                    "commit", "-q", "--allow-empty", "-m", message],
                   env=env, check=True, timeout=30)  # fmt: skip


def _plain_git(rig: SandboxRig, *args: str) -> str:
    """``git ARGS`` in the repository as the person runs it (not swarm's: no fold first)."""
    import subprocess

    done = subprocess.run(["git", "-C", str(rig.repo), *args], capture_output=True, text=True,
                          timeout=30, check=True)  # fmt: skip
    return done.stdout.strip()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("box", [(True, False)], indirect=True)
def test_swarm_run_started_beside_a_running_sandbox_folds_a_planted_object_unasked(
    box: SandboxRig,
) -> None:
    """In a person's order: ``desktop up``, the agent at work, then ``swarm run``. Agent-1
    plants its commit under Agent-2's commit's name, once before ``swarm run`` starts and
    once while it runs: the coordinator's timer folds the stores with no git of swarm's
    asked (nothing is delivered), each forgery gone from Agent-1's store within seconds, the
    person's own git reads Agent-2's commit, and ``swarm alerts`` says Agent-1's refusals."""
    import sys

    from tests.helpers import ROOT

    _up(box, "--agents", "1")
    _commit_as_agent_2(box, "agent-2-s-work")
    real = _plain_git(box, "rev-parse", "Agent-2")
    forged = box.repo / ".git" / "swarm" / "objects" / "Agent-1" / real[:2] / real[2:]
    _plant(box, real, "first")
    run = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "run", "--no-discord"],
                           env={**box.env, "SWARM_WEB": "off"}, cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        first = _gone(forged, run)
        _plant(box, real, "again")  # while it runs: only its timer looks
        again = _gone(forged, run)
        said = _alerted(box, run)
    finally:
        run.terminate()
        _, err = run.communicate(timeout=30)
    assert first and again, err.decode(errors="replace")[-2000:]
    assert _plain_git(box, "log", "-1", "--format=%s", real) == "agent-2-s-work"
    assert "Agent-1: swarm refused what its git store held (2 on record" in said, said


def _alerted(rig: SandboxRig, run: subprocess.Popen[bytes], within_s: float = 30) -> str:
    """What ``swarm alerts`` says once it names a ``git-refused`` alert with both plants on
    record (or at ``within_s``) while ``run`` runs."""
    import time

    deadline, said = time.monotonic() + within_s, ""
    while run.poll() is None and time.monotonic() < deadline:
        said = rig.swarm("alerts").stdout
        if "git-refused" in said and "(2 on record" in said:
            break
        time.sleep(0.5)
    return said


def _plant(rig: SandboxRig, target: str, tag: str) -> None:
    """Agent-1's pane plants its own commit under ``target``'s name in its store."""
    script, out = rig.ws["Agent-1"] / "forge.sh", rig.ws["Agent-1"] / f"forge-{tag}.out"
    script.write_text(FORGE)
    sent = rig.tmux("send-keys", "-t", "swarm-Agent-1", f"sh {script} {out} {target}", "Enter")
    assert sent.returncode == 0 and rig.read(out).get("planted") == "yes", out.read_text()


def _gone(path: Path, run: subprocess.Popen[bytes], within_s: float = 60) -> bool:
    """Whether ``path`` is removed within ``within_s`` while ``run`` runs."""
    import time

    deadline = time.monotonic() + within_s
    while path.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    return not path.exists()
