"""A swarm home with two agents in git worktrees of one repository, a user HOME with an SSH
key, a private tmux server, and a probe: a shell script run inside an agent's session that
writes what it could reach (issue 67's tests)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from automation import tmux_sessions
from core.sandbox import git_folders
from tests import cli_zygote

REPO = Path(__file__).resolve().parents[2]
ACP_AGENT = Path(__file__).with_name("sandbox_acp.py")
PROBE = """\
out="$1"; other_pid="$2"
{{
echo "db=$(test -r {home}/swarm.db && echo read || echo hidden)"
echo "ssh=$(cat {user}/.ssh/id_ed25519 2>/dev/null || echo hidden)"
echo "other=$(ls {other} 2>/dev/null | tr '\\n' ' ' || true)"
touch {root}/outside 2>/dev/null; touch "$HOME/left-in-home" 2>/dev/null
echo "usr=$(touch /usr/.probe-$$ 2>/dev/null && rm /usr/.probe-$$ && echo wrote || echo refused)"
echo "kill=$(kill -0 "$other_pid" 2>/dev/null && echo alive || echo unseen)"
echo "procs=$(ls /proc | grep -c '^[0-9]')"
echo "commit=$(echo x > made.txt && git add made.txt && git -c user.name=a -c user.email=a@a \
commit -qm made 2>&1 && echo ok)"
echo "hooks=$(touch {common}/hooks/probe-hook 2>/dev/null && echo wrote || echo refused)"
echo "config=$(git config swarm.probe 1 2>/dev/null && echo wrote || echo refused)"
echo "commondir=$(touch {own_git}/commondir 2>/dev/null && echo wrote || echo refused)"
echo "othergit=$(touch {other_git}/probe 2>/dev/null && echo wrote || echo refused)"
echo "mainref=$(git update-ref refs/heads/{main} HEAD 2>/dev/null && echo wrote || echo refused)"
echo "otherref=$(git update-ref refs/heads/Agent-2 HEAD 2>/dev/null && echo wrote || echo refused)"
echo "rawref=$( (echo 0000 > {common}/refs/heads/Agent-2) 2>/dev/null && echo wrote \
|| echo refused)"
echo "userhead=$( (echo 'ref: refs/heads/x' > {common}/HEAD) 2>/dev/null && echo wrote \
|| echo refused)"
echo "newbranch=$(git branch probe-branch 2>/dev/null && echo made || echo refused)"
echo "index=$(touch {common}/index 2>/dev/null && echo wrote || echo refused)"
echo "gitroot=$(touch {common}/probe-made 2>/dev/null && echo wrote || echo refused)"
echo "alternates=$(touch {common}/objects/info/alternates 2>/dev/null && echo wrote \
|| echo refused)"
echo "tag=$(git tag probe-tag 2>/dev/null && echo made || echo refused)"
echo "gitconfig=$(cat {user}/.gitconfig 2>/dev/null | tr '\n' ' ' || echo hidden)"
echo "ident=$(echo i > ident.txt && git add ident.txt && git commit -qm ident 2>&1 \
&& git log -1 --format='%an <%ae>')"
echo "configured=$(git config --get user.name) <$(git config --get user.email)>"
echo "noteref=$(git update-ref refs/notes/probe HEAD 2>/dev/null && echo wrote || echo refused)"
echo "stash=$(echo s > stash.txt && git add stash.txt && git stash -q 2>/dev/null && echo made \
|| echo refused)"
echo "objects=$(rm {common}/objects/{first} 2>/dev/null && echo deleted || echo refused)"
echo "shared=$(rm -r "$(head -n 1 {common}/objects/info/alternates)" 2>/dev/null && echo deleted \
|| echo refused)"
if command -v swarm >/dev/null; then
echo "start=$( (swarm task start T-1 2>&1; echo rc $?) | tr '\\n' ' ')"
echo "done=$( (swarm task done T-1 --note inside 2>&1; echo rc $?) | tr '\\n' ' ')"
echo "approve=$( (swarm approve R-1 2>&1; echo rc $?) | tr '\\n' ' ')"
fi
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


def fenced(root: Path, protocol: bool = False) -> SandboxRig:
    """A rig whose Agent-1 is sandboxed, once tmux, bwrap and git are there (else skipped;
    failed under ``SWARM_REQUIRE_*``)."""
    from tests.conftest import skip_or_fail

    for tool in ("tmux", "bwrap", "git"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed")
    return SandboxRig(root, sandbox=True, protocol=protocol)


class SandboxRig:
    """Agent-1 (``sandbox``) and Agent-2 in worktrees of ``repo``; ``swarm`` run as a
    subprocess with the rig's environment."""

    def __init__(self, root: Path, sandbox: bool, protocol: bool = False) -> None:
        self.root, self.home, self.user = root, root / "home", root / "user"
        self.config = self.home / "agents.toml"
        self.repo, self.bin = root / "repo", root / "bin"
        self.ws = {name: root / "ws" / name for name in ("Agent-1", "Agent-2")}
        for folder in (self.home, self.user / ".ssh", self.bin):
            folder.mkdir(parents=True)
        (self.user / ".ssh" / "id_ed25519").write_text("SECRET-KEY\n")
        (self.user / ".gitconfig").write_text(  # the person's, with a token in a rewrite
            "[user]\n\tname = Pat Person\n\temail = pat@example.com\n"
            '[url "https://TOKEN-SECRET@example.com/"]\n\tinsteadOf = https://example.com/\n'
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SWARM_", "TMUX"))},
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOME": str(self.user),
            "XDG_CONFIG_HOME": str(self.user / ".config"),
            "TMUX_TMPDIR": str(root),
            "SWARM_HOME": str(self.home),
            "SWARM_CONFIG": str(self.config),
            "PYTHONPATH": str(REPO),
            "LANG": "C.UTF-8",
        }
        self._git("init", "-q", str(self.repo))
        self._git("-C", str(self.repo), "commit", "-q", "--allow-empty", "-m", "init")
        for name, path in self.ws.items():
            self._git("-C", str(self.repo), "worktree", "add", "-q", str(path), "-b", name)
        (self.ws["Agent-2"] / "secret.txt").write_text("Agent-2's work\n")
        self.config.write_text(self._agents(sandbox, protocol), encoding="utf-8")

    def _agents(self, sandbox: bool, protocol: bool) -> str:
        command = "acp-agent" if protocol else "bash --norc --noprofile"
        if protocol:
            (self.bin / "acp-agent").write_text(ACP_AGENT.read_text())
            (self.bin / "acp-agent").chmod(0o755)
        lines = ["[desktop]", f'command = "{command}"', ""]
        for name, path in self.ws.items():
            lines += ["[[agent]]", f'id = "{name}"', 'role = "dev"', f'workspace = "{path}"']
            if protocol:
                lines += ['cli = "gemini"', 'delivery = "protocol"']
            if name == "Agent-1":
                lines.append(f"sandbox = {'true' if sandbox else 'false'}")
                if protocol:  # the probe's variables, named: nothing else of swarm's enters
                    lines.append('sandbox_env = ["PROBE_SCRIPT", "PROBE_OUT", "PROBE_PID"]')
            lines.append("")
        return "\n".join(lines)

    def use_command(self, command: str) -> None:
        """The ``[desktop]`` command every agent runs (the rig's is a bare ``bash``)."""
        text = self.config.read_text(encoding="utf-8")
        given = f"command = {json.dumps(command)}"
        self.config.write_text(text.replace('command = "bash --norc --noprofile"', given))

    def down(self) -> None:
        """``desktop down`` and the rig's tmux server ended (a fixture's end)."""
        self.swarm("desktop", "down", "--headless")
        self.tmux("kill-server")

    def pass_env(self, *names: str) -> None:
        """Agent-1's agents-file entry names ``names`` in ``sandbox_env``."""
        text = self.config.read_text(encoding="utf-8")
        line = f"sandbox_env = {list(names)!r}".replace("'", '"')
        self.config.write_text(text.replace("sandbox = true\n", f"sandbox = true\n{line}\n", 1))

    def _git(self, *args: str) -> None:
        env = {**self.env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t"}
        env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
        subprocess.run(["git", *args], env=env, check=True, timeout=30)

    def commits(self) -> str:
        """``git log --all --oneline`` of the repository, seen from outside."""
        done = subprocess.run(["git", "-C", str(self.repo), "log", "--all", "--oneline"],
                              capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
        return done.stdout

    def swarm(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``swarm ARGS`` in the rig's environment."""
        return cli_zygote.run(list(args), self.env, self.root, timeout)

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """``argv`` in the rig's environment, outside every agent's terminal."""
        return self.run_input(argv, None)

    def run_input(self, argv: list[str], given: str | None) -> subprocess.CompletedProcess[str]:
        """``run`` with ``given`` on its stdin."""
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60,
                              input=given)  # fmt: skip

    @property
    def socket(self) -> str:
        """The home's own tmux server's socket (where ``desktop up`` starts sessions)."""
        return tmux_sessions.home_socket(self.home, self.env)

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``tmux ARGS`` on the home's own server."""
        return subprocess.run(["tmux", "-S", self.socket, *args], env=self.env,
                              capture_output=True, text=True, timeout=10)  # fmt: skip

    def write_probe(self) -> Path:
        """The probe script, in Agent-1's worktree."""
        script = self.ws["Agent-1"] / "probe.sh"
        other = self.ws["Agent-2"]
        own_git, common = git_folders(self.ws["Agent-1"])
        other_git, _ = git_folders(other)
        main = subprocess.run(
            ["git", "-C", str(self.repo), "symbolic-ref", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        script.write_text(PROBE.format(
            home=self.home, user=self.user, other=other, root=self.root, common=common,
            own_git=own_git, other_git=other_git, main=main,
            first=self.first_object().relative_to(Path(common) / "objects"),
        ))  # fmt: skip
        return script

    def first_object(self) -> Path:
        """The loose object file of the repository's first commit, in its common ``.git``."""
        done = subprocess.run(["git", "-C", str(self.repo), "rev-list", "--max-parents=0", "HEAD"],
                              capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
        first = done.stdout.split()[0]
        return self.repo / ".git" / "objects" / first[:2] / first[2:]

    def fsck(self) -> subprocess.CompletedProcess[str]:
        """``git fsck`` of the repository, outside (its branches' objects all there)."""
        return subprocess.run(["git", "-C", str(self.repo), "fsck", "--no-dangling"],
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    def probe_pane(self, other_pid: int, timeout: float = 60) -> dict[str, str]:
        """Run the probe in Agent-1's tmux pane; what it wrote."""
        script, out = self.write_probe(), self.ws["Agent-1"] / "probe.out"
        line = f"sh {script} {out} {other_pid}"
        assert self.tmux("send-keys", "-t", "swarm-Agent-1", line, "Enter").returncode == 0
        return self.read(out, timeout)

    def read(self, out: Path, timeout: float = 60) -> dict[str, str]:
        """The probe's ``key=value`` lines once it wrote them."""
        deadline = time.monotonic() + timeout
        while not out.exists():
            assert time.monotonic() < deadline, f"the probe wrote nothing to {out}"
            time.sleep(0.1)
        pairs = (line.partition("=") for line in out.read_text().splitlines() if "=" in line)
        return {key: value for key, _, value in pairs}


async def assign(rig: SandboxRig, title: str = "probe") -> None:
    """T-1, assigned to Agent-1 by the scheduler (its prompt recorded, not typed)."""

    assert rig.swarm("task", "add", title, "--agent", "Agent-1").returncode == 0
    await burst(rig)


async def burst(rig: SandboxRig) -> None:
    """One round of the scheduler: the ready tasks assigned (their prompts recorded)."""
    from core.coordinator.scheduler import Scheduler
    from core.service.swarm import SwarmService
    from core.settings import Settings
    from tests.helpers import RecordingDeliverer

    settings = Settings.from_env({"SWARM_HOME": str(rig.home), "SWARM_CONFIG": str(rig.config)})
    service = await SwarmService.open(settings)
    try:
        await Scheduler(service, RecordingDeliverer()).run_burst()
    finally:
        await service.close()
