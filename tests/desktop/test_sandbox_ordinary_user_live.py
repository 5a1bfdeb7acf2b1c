"""Issue 77, as an ordinary user: the escapes of ``test_sandbox_escapes_live.py`` replayed by
an agent that ``swarm desktop up --headless`` started for a person who is not root (the
``nobody`` account, through ``runuser``): bubblewrap then makes a user namespace of its own,
the door and the commands it runs are that person's processes. The agent's planted ``bot``
package runs nowhere outside, its ``.git`` cannot be rewritten, the person's tokens are not
in its environment, it keeps no capability, the door takes no ``--conf=``, and with its
network said ``"none"`` the person's abstract socket (an X server's, say) is not there.

swarm runs there as the person runs it: a Python of the system's (another user cannot enter
``/root``, where this machine's own lives), given the project's packages by a ``.pth`` file
(no copy, nothing installed). Run as root only (``runuser``); skipped where there is no
system Python of the same minor version."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation import tmux_sessions
from tests.conftest import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
PERSON = "nobody"
SYSTEM_PYTHON = Path(f"/usr/bin/python3.{sys.version_info.minor}")
TOKENS = {"DISCORD_TOKEN": "discord-SECRET-1", "ANTHROPIC_API_KEY": "anthropic-SECRET-4"}
PLANT = "import pathlib; pathlib.Path({marker!r}).write_text('ran outside')\n"
PROBE = """\
out="$1"
{{
echo "python=$( (swarm task list 2>&1; echo rc $?) | tail -1)"
echo "dotgit=$( (echo 'gitdir: /' > .git) 2>/dev/null && echo wrote || echo refused)"
echo "conf=$( (swarm --conf=/tmp/a.toml task list 2>&1; echo rc $?) | tr '\\n' ' ')"
echo "env=$(env | tr '\\n' ' ')"
echo "capeff=$(grep CapEff /proc/self/status | tr -d '\\t')"
echo "uid=$(id -u)"
echo "abstract=$(python3 -I -S -c 'import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\\0{abstract}"); print("reached")
except OSError as exc:
    print(type(exc).__name__)')"
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


class Person:
    """A folder of the ordinary user's (world-readable above it, theirs inside) and swarm run
    as that user, with the system's Python and the project's packages."""

    def __init__(self, root: Path) -> None:
        self.root, self.home, self.user = root, root / "home", root / "user"
        self.repo, self.work = root / "repo", root / "ws" / "Agent-1"
        self.python = root / "venv" / "bin" / "python"
        self.env = {
            "PATH": f"{root / 'venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.user),
            "SWARM_HOME": str(self.home),
            "SWARM_CONFIG": str(self.home / "agents.toml"),
            "TMUX_TMPDIR": str(root),
            "LANG": "C.UTF-8",
            "TERM": "xterm-256color",
            "SHELL": "/bin/sh",  # nobody's own is nologin: tmux runs commands with it
            **TOKENS,
        }

    def run(
        self, *argv: str, timeout: float = 120, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``argv`` as the person, in their folder (or ``cwd``), with their environment."""
        given = [f"{key}={value}" for key, value in self.env.items()]
        return subprocess.run(
            ["runuser", "-u", PERSON, "--", "env", "-i", *given, *argv],
            cwd=cwd or self.root, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    @property
    def socket(self) -> str:
        """The home's own tmux server's socket (where ``desktop up`` starts the sessions)."""
        return tmux_sessions.home_socket(self.home, self.env)

    def swarm(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``swarm ARGS`` as the person."""
        return self.run(str(self.python), "-m", "bot.cli", *args)


def _venv(root: Path) -> None:
    """A venv of the system's Python whose site has the project and its installed packages
    (a ``.pth`` file naming this checkout's site: its editable finders run there too)."""
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(root / "venv")],
                   check=True, timeout=60)  # fmt: skip
    site = root / "venv" / "lib" / f"python3.{sys.version_info.minor}" / "site-packages"
    ours = sysconfig.get_paths()["purelib"]
    (site / "swarm-checkout.pth").write_text(f"import site; site.addsitedir({ours!r})\n")


@pytest.fixture
def person() -> Iterator[Person]:
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("runs as root, replaying as an ordinary user through runuser")
    if not SYSTEM_PYTHON.exists():
        pytest.skip(f"no {SYSTEM_PYTHON}: the checkout's Python is root's own")
    for tool in ("tmux", "bwrap", "git"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed")
    root = Path(tempfile.mkdtemp(prefix="swarm-person-", dir="/tmp"))
    root.chmod(0o755)
    _venv(root)
    shutil.chown(root, PERSON)
    made = Person(root)
    try:
        _team(made)
        yield made
    finally:
        made.swarm("desktop", "down", "--headless")
        made.run("tmux", "-S", made.socket, "kill-server")
        shutil.rmtree(root, ignore_errors=True)


def _team(person: Person) -> None:
    """The person's repository, Agent-1's worktree and agents file, made as the person."""
    git = ("git", "-c", "user.name=p", "-c", "user.email=p@p")
    for argv in (("mkdir", "-p", str(person.home), str(person.user), str(person.work.parent)),
                 (*git, "init", "-q", str(person.repo)),
                 (*git, "-C", str(person.repo), "commit", "-q", "--allow-empty", "-m", "init"),
                 (*git, "-C", str(person.repo), "worktree", "add", "-q", str(person.work),
                  "-b", "Agent-1")):  # fmt: skip
        done = person.run(*argv)
        assert done.returncode == 0, done.stderr
    agents = (f'[desktop]\ncommand = "bash --norc --noprofile"\n\n[[agent]]\nid = "Agent-1"\n'
              f'role = "dev"\nworkspace = "{person.work}"\nsandbox = true\n'
              'sandbox_network = "none"\n')  # fmt: skip
    (person.home / "agents.toml").write_text(agents, encoding="utf-8")
    shutil.chown(person.home / "agents.toml", PERSON)


def _plant(person: Person) -> Path:
    """``bot``, ``core`` and ``automation`` packages in the worktree, each writing a marker
    where it is imported."""
    marker = person.root / "escaped-python"
    for package in ("bot", "bot/cli", "core", "automation"):
        folder = person.work / package
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text(PLANT.format(marker=str(marker)))
        shutil.chown(folder, PERSON)
    return marker


def _read(out: Path, timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while not out.exists():
        assert time.monotonic() < deadline, f"the probe wrote nothing to {out}"
        time.sleep(0.1)
    pairs = (line.partition("=") for line in out.read_text().splitlines() if "=" in line)
    return {key: value for key, _, value in pairs}


@pytest.mark.timeout(240)
def test_an_ordinary_users_agent_that_wants_out_gets_nothing_outside(person: Person) -> None:
    marker = _plant(person)
    abstract = f"/tmp/.X11-unix/X-person-{os.getpid()}"
    with socket.socket(socket.AF_UNIX) as x11:
        x11.bind("\0" + abstract)
        x11.listen(4)
        assert person.swarm("task", "add", "probe", "--agent", "Agent-1").returncode == 0
        up = person.swarm("desktop", "up", "--headless", "--no-hooks")
        assert up.returncode == 0, up.stdout + up.stderr
        script, out = person.work / "escape.sh", person.work / "escape.out"
        script.write_text(PROBE.format(abstract=abstract))
        shutil.chown(script, PERSON)
        typed = person.run("tmux", "-S", person.socket, "send-keys", "-t", "swarm-Agent-1",
                           f"sh {script} {out}", "Enter")  # fmt: skip
        assert typed.returncode == 0, typed.stderr
        got = _read(out, 90)
    assert got["uid"] != "0", got  # the person's own id inside its user namespace
    assert got["python"] == "rc 0" and not marker.exists(), got
    assert got["dotgit"] == "refused", got
    assert "rc 2" in got["conf"], got
    for name, value in TOKENS.items():
        assert value not in got["env"] and f"{name}=" not in got["env"], got["env"]
    assert got["capeff"] == "CapEff:0000000000000000", got
    assert got["abstract"] == "ConnectionRefusedError", got
    # the door and what it ran are the person's processes, not root's
    door = (person.home / "doors" / "Agent-1.pid").read_text().split()[0]
    assert Path(f"/proc/{door}").stat().st_uid != 0
    # the teeth: the planted package runs when Python starts in the worktree as before
    person.run(str(person.python), "-c", "import bot", cwd=person.work)
    assert marker.exists()
