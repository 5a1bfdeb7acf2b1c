"""Issue 77: the sandbox holds against an agent that wants out. Each escape is tried from
inside a sandboxed agent's pane (``swarm desktop up --headless``: real bubblewrap, real tmux,
real git, the door as swarm starts it), and its effect is looked for outside: what swarm
runs for the agent (its door's commands, its hooks) imports nothing of the agent's folder;
the agent cannot rewrite its ``.git`` to name what the next start binds, and a ``.git``
rewritten anyway (before this fix, or while unsandboxed) is refused by ``desktop up`` and
by swarm's git; the door takes no ``--config``/``--as`` in any spelling; none of the
person's tokens is in the sandbox's environment; as root, no capability is left."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.sandbox import branch_records, git_folders
from core.workspaces._git import ForeignGitFolder, git
from tests.desktop.sandbox_rig import SandboxRig, fenced

TOKENS = {
    "DISCORD_TOKEN": "discord-SECRET-1",
    "GITHUB_TOKEN": "github-SECRET-2",
    "OPENAI_API_KEY": "openai-SECRET-3",
    "ANTHROPIC_API_KEY": "anthropic-SECRET-4",
    "SWARM_MCP_TOKEN": "mcp-SECRET-5",
}
# a Python package of the agent's, named as swarm's: imported, it says so outside
PLANT = "import pathlib; pathlib.Path({marker!r}).write_text('ran outside')\n"
PROBE = """\
out="$1"
{{
echo "python=$( (swarm task list 2>&1; echo rc $?) | tail -1)"
echo "hook=$(echo '{{}}' | swarm hook Stop --agent Agent-1 >/dev/null 2>&1; echo rc $?)"
echo "dotgit=$( (echo 'gitdir: {user}' > .git) 2>/dev/null && echo wrote || echo refused)"
echo "conf=$( (swarm --conf={user}/a.toml task list 2>&1; echo rc $?) | tr '\\n' ' ')"
echo "conflate=$( (swarm task list --conf={user}/a.toml 2>&1; echo rc $?) | tr '\\n' ' ')"
echo "as=$( (swarm task done T-1 --as Agent-2 2>&1; echo rc $?) | tr '\\n' ' ')"
echo "env=$(env | tr '\\n' ' ')"
echo "capeff=$(grep CapEff /proc/self/status | tr -d '\\t')"
echo "nnp=$(grep NoNewPrivs /proc/self/status | tr -d '\\t')"
echo "procsys=$(test -w /proc/sys/kernel/hostname && echo writable || echo read-only)"
echo "remount=$(mount -o remount,rw,bind {common}/hooks 2>/dev/null && echo remounted \
|| echo refused)"
echo "hooks=$(touch {common}/hooks/probe-hook 2>/dev/null && echo wrote || echo refused)"
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


@pytest.fixture(params=["tmux"])
def rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SandboxRig]:
    """Agent-1 sandboxed on the route ``request.param`` names (``tmux``: its pane;
    ``protocol``: the command its host spawns), the person's tokens exported."""
    made = fenced(tmp_path, protocol=request.param == "protocol")
    with made.config.open("a", encoding="utf-8") as config:  # the agents file gives it one
        config.write('\n[desktop.agent.Agent-1.env]\nMY_TOOL_SETTING = "given-by-the-file"\n')
    made.env.update(TOKENS)  # the person's tokens exported, as the docs allow
    yield made
    made.down()


def _plant_python(rig: SandboxRig) -> Path:
    """``bot``, ``core`` and ``automation`` packages in Agent-1's worktree, each writing
    the marker when imported."""
    marker = rig.root / "escaped-python"
    for package in ("bot", "bot/cli", "core", "automation"):
        folder = rig.ws["Agent-1"] / package
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text(PLANT.format(marker=str(marker)))
    return marker


def _probe(rig: SandboxRig, protocol: bool) -> dict[str, str]:
    """``desktop up`` of Agent-1, the escape probe run inside: typed into its pane, or run
    by its ACP agent at its session's start (``sandbox_acp.py``); what the probe wrote."""
    _, common = git_folders(rig.ws["Agent-1"])
    script, out = rig.ws["Agent-1"] / "escape.sh", rig.ws["Agent-1"] / "escape.out"
    script.write_text(PROBE.format(user=rig.user, common=common))
    rig.env.update(PROBE_SCRIPT=str(script), PROBE_OUT=str(out), PROBE_PID="0")
    route = ["--protocol"] if protocol else []
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1", *route)
    assert up.returncode == 0, up.stdout + up.stderr
    if not protocol:
        sent = rig.tmux("send-keys", "-t", "swarm-Agent-1", f"sh {script} {out}", "Enter")
        assert sent.returncode == 0, sent.stderr
    return rig.read(out, 90)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("rig", ["tmux", "protocol"], indirect=True)
def test_an_agent_that_wants_out_gets_nothing_outside(rig: SandboxRig) -> None:
    marker = _plant_python(rig)
    assert rig.swarm("task", "add", "probe", "--agent", "Agent-1").returncode == 0
    protocol = (rig.bin / "acp-agent").exists()
    got = _probe(rig, protocol)
    # what swarm ran for it (door, its commands, its hook) imported none of its Python
    assert got["python"] == "rc 0" and got["hook"] == "rc 0", got
    assert not marker.exists(), marker.read_text()
    # its .git cannot be rewritten to name what the next start binds
    assert got["dotgit"] == "refused", got
    assert (rig.ws["Agent-1"] / ".git").read_text().startswith("gitdir: ")
    assert str(rig.user) not in (rig.ws["Agent-1"] / ".git").read_text()
    # the door takes no agents file and no other actor, however spelled
    for key in ("conf", "conflate", "as"):
        assert "rc 2" in got[key], got
    assert "rc 2" in got["as"] and "--as" in got["as"], got
    # nothing of the person's environment but the allow-list
    for name, value in TOKENS.items():
        assert value not in got["env"] and f"{name}=" not in got["env"], got["env"]
    assert "SWARM_AGENT=Agent-1" in got["env"] and "TMUX=" not in got["env"], got["env"]
    assert "MY_TOOL_SETTING=given-by-the-file" in got["env"], got["env"]  # the file's own
    # a variable of the person's enters only when sandbox_env names it (the protocol rig's)
    assert ("PROBE_OUT=" in got["env"]) == protocol, got["env"]
    # the protocol rig's agent is a Gemini CLI one: its network its own (issue 78), its base
    # URL the relay's port, its proxy swarm's
    if protocol:
        assert "GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:4180 " in got["env"], got["env"]
        assert "HTTPS_PROXY=http://127.0.0.1:4181 " in got["env"], got["env"]
    # no privileges, as root too
    assert got["capeff"] == "CapEff:0000000000000000" and got["nnp"] == "NoNewPrivs:1", got
    assert got["procsys"] == "read-only", got
    assert (got["remount"], got["hooks"]) == ("refused", "refused"), got
    # the teeth: the planted package runs when Python is started in the worktree as before
    subprocess.run([sys.executable, "-c", "import bot"], cwd=rig.ws["Agent-1"],
                   env={"PATH": "/usr/bin:/bin"}, timeout=60, check=False)  # fmt: skip
    assert marker.exists()


def _fsmonitor_plant(rig: SandboxRig) -> Path:
    """Agent-1's ``.git`` rewritten (as an agent did before the sandbox guarded it) to name
    a git folder of its own making, whose config runs its program as fsmonitor."""
    work, marker = rig.ws["Agent-1"], rig.root / "escaped-fsmonitor"
    evil = work / "evil"
    subprocess.run(["git", "init", "-q", "--separate-git-dir", str(evil / "git"),
                    str(evil / "tree")], check=True, timeout=30)  # fmt: skip
    program = work / "monitor.sh"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n")
    program.chmod(0o755)
    with (evil / "git" / "config").open("a") as config:
        config.write(f"[core]\n\tfsmonitor = {program}\n\tworktree = {work}\n")
    (work / ".git").write_text(f"gitdir: {evil / 'git'}\n")
    return marker


@pytest.mark.timeout(120)
def test_a_git_folder_the_agent_named_is_refused_not_bound_nor_run(rig: SandboxRig) -> None:
    marker = _fsmonitor_plant(rig)
    with pytest.raises(ForeignGitFolder, match="refused"):
        git(rig.ws["Agent-1"], "status", "--porcelain")
    assert not marker.exists()  # swarm's git ran nothing of the agent's
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 2 and "refused, nothing bound" in up.stderr, up.stderr
    assert len(up.stderr.strip().splitlines()) == 1, up.stderr
    assert rig.tmux("has-session", "-t", "=swarm-Agent-1").returncode != 0  # not started
    doctor = rig.swarm("doctor")
    assert "PROBLEM" in doctor.stdout and "refused, nothing bound" in doctor.stdout, doctor.stdout
    # its home named: refused all the same
    (rig.ws["Agent-1"] / ".git").write_text(f"gitdir: {rig.user}\n")
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 2 and "refused, nothing bound" in up.stderr, up.stderr
    # the teeth: the same folder's plain git runs the agent's program
    (rig.ws["Agent-1"] / ".git").write_text(f"gitdir: {rig.ws['Agent-1'] / 'evil' / 'git'}\n")
    subprocess.run(["git", "status", "--porcelain"], cwd=rig.ws["Agent-1"], timeout=30,
                   capture_output=True, check=False)  # fmt: skip
    assert marker.exists()


LINKS = """\
out="$1"
{{
echo "worktree=$(ln -s {user}/.ssh/id_ed25519 {own_git}/config.worktree 2>&1 && echo planted)"
echo "key=$(cat {user}/.ssh/id_ed25519 2>/dev/null || echo hidden)"
echo "mainlog=$(rm {common}/logs/refs/heads/{main} 2>/dev/null && echo deleted || echo refused)"
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


@pytest.mark.timeout(120)
def test_a_link_planted_in_its_git_folder_refuses_its_next_start(rig: SandboxRig) -> None:
    own_git, common = git_folders(rig.ws["Agent-1"])
    main = subprocess.run(["git", "-C", str(rig.repo), "symbolic-ref", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    script, out = rig.ws["Agent-1"] / "links.sh", rig.ws["Agent-1"] / "links.out"
    script.write_text(LINKS.format(user=rig.user, own_git=own_git, common=common, main=main))
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    assert (
        rig.tmux("send-keys", "-t", "swarm-Agent-1", f"sh {script} {out}", "Enter").returncode == 0
    )
    got = rig.read(out, 60)
    # inside: its own git folder takes a link (config.worktree was not there to guard), the
    # key stays unseen, the person's branch's reflog is not its to delete
    assert got["worktree"] == "planted" and got["key"] == "hidden", got
    assert got["mainlog"] == "refused" and (Path(common) / "logs/refs/heads" / main).is_file()
    # its next start would bind what the link names (the key): refused in one line, not run
    assert rig.swarm("desktop", "down", "--headless").returncode == 0
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 2 and "is a symbolic link: refused, nothing bound" in up.stderr, up
    assert len(up.stderr.strip().splitlines()) == 1, up.stderr
    assert rig.tmux("has-session", "-t", "=swarm-Agent-1").returncode != 0  # not started
    doctor = rig.swarm("doctor")  # and said where the person looks before starting it
    assert "PROBLEM" in doctor.stdout and "is a symbolic link" in doctor.stdout, doctor.stdout


HEAD_AT = """\
out="$1"
{{
echo "head=$(git symbolic-ref HEAD refs/heads/{main} 2>&1 && echo moved)"
echo "main=$(git -c user.name=a -c user.email=a@b commit -q --allow-empty -m escaped \
>/dev/null 2>&1 && echo moved || echo refused)"
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
"""
NEXT_START = """\
out="$1"
{{
echo "main=$(git -c user.name=a -c user.email=a@b commit -q --allow-empty -m escaped \
>/dev/null 2>&1 && echo moved || echo refused)"
git symbolic-ref HEAD refs/heads/Agent-1
echo "own=$(git -c user.name=a -c user.email=a@b commit -q --allow-empty -m mine \
>/dev/null 2>&1 && echo moved || echo refused)"
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


@pytest.mark.timeout(180)
def test_its_head_pointed_at_the_persons_branch_does_not_make_that_branch_its_own(
    rig: SandboxRig,
) -> None:
    main = subprocess.run(["git", "-C", str(rig.repo), "symbolic-ref", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    person = subprocess.run(["git", "-C", str(rig.repo), "rev-parse", main],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    work = rig.ws["Agent-1"]
    for script, text in (("head.sh", HEAD_AT), ("next.sh", NEXT_START)):
        (work / script).write_text(text.format(main=main))
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    rig.tmux("send-keys", "-t", "swarm-Agent-1", f"sh head.sh {work / 'head.out'}", "Enter")
    got = rig.read(work / "head.out", 60)
    # its HEAD is its own to write; the person's branch is not its to move
    assert got["head"] == "moved" and got["main"] == "refused", got
    # its next start: the branch its HEAD names now is still not its own (before, the
    # start took what HEAD named, and the commit moved the person's branch)
    assert rig.swarm("desktop", "down", "--headless").returncode == 0
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    rig.tmux("send-keys", "-t", "swarm-Agent-1", f"sh next.sh {work / 'next.out'}", "Enter")
    got = rig.read(work / "next.out", 60)
    assert got["main"] == "refused" and got["own"] == "moved", got
    assert subprocess.run(["git", "-C", str(rig.repo), "rev-parse", main], capture_output=True,
                          text=True, check=True).stdout == person  # fmt: skip
    assert "mine" in rig.commits() and "escaped" not in rig.commits()
    # a worktree swarm kept no record of, its HEAD on the person's branch (rewritten before
    # swarm kept them): its next start would move no branch, and doctor says so
    assert rig.swarm("desktop", "down", "--headless").returncode == 0
    own_git, common = map(Path, git_folders(work))
    (own_git / "HEAD").write_text(f"ref: refs/heads/{main}\n")
    branch_records.forget(common, own_git.name)
    doctor = rig.swarm("doctor")
    assert "Agent-1: its sandbox moves no branch" in doctor.stdout, doctor.stdout


SHADOW = """\
out="$1"
{
echo "shadow=$(git update-ref refs/heads/origin/main HEAD 2>/dev/null && echo made || echo refused)"
echo "bare=$(git branch origin 2>/dev/null && echo made || echo refused)"
echo "own=$(git branch work-of-its-own 2>/dev/null && echo made || echo refused)"
echo end=1
} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


@pytest.mark.timeout(120)
def test_a_branch_that_would_shadow_the_persons_remote_branch_is_refused(
    rig: SandboxRig,
) -> None:
    outside = ["git", "-C", str(rig.repo)]
    subprocess.run([*outside, "remote", "add", "origin", "https://example.invalid/app.git"],
                   check=True, timeout=30)  # fmt: skip
    fetched = subprocess.run([*outside, "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=True, timeout=30).stdout.strip()  # fmt: skip
    subprocess.run([*outside, "update-ref", "refs/remotes/origin/main", fetched], check=True)
    work = rig.ws["Agent-1"]
    (work / "shadow.sh").write_text(SHADOW)
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    rig.tmux("send-keys", "-t", "swarm-Agent-1", f"sh shadow.sh {work / 'shadow.out'}", "Enter")
    got = rig.read(work / "shadow.out", 60)
    # a branch named as the remote's (before: made, and the person's git merge origin/main
    # took the agent's commit, with one "ambiguous" warning); a branch of its own still made
    assert (got["shadow"], got["bare"], got["own"]) == ("refused", "refused", "made"), got
    said = subprocess.run([*outside, "rev-parse", "origin/main"], capture_output=True,
                          text=True, check=True, timeout=30)  # fmt: skip
    assert said.stdout.strip() == fetched and "ambiguous" not in said.stderr, said
    # one made outside the sandbox (by an agent unsandboxed, or before swarm refused it):
    # swarm doctor says it, with what to do
    subprocess.run([*outside, "branch", "origin/feature"], check=True, timeout=30)
    doctor = rig.swarm("doctor").stdout
    assert "branch origin/feature shadows the remote's origin/feature" in doctor, doctor
    assert "git branch -D origin/feature" in doctor
