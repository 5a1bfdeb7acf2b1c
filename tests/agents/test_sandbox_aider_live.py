"""The real Aider (pinned, in its own venv) in swarm's bubblewrap sandbox in its no-prompt mode
(``--yes-always``), started by ``swarm desktop up --headless`` with ``sandbox = true`` as a
user starts it. The model's answer creates a file in its worktree (Aider's "Create new file?"
answered yes unasked) and suggests a shell command that reports ``swarm task start`` through
the door: ``--yes-always`` declines it unasked (0.86.2 asks "Run shell command?" with
``explicit_yes_required``, which its always-yes answers no), so the command never runs and
the task stays as it was; no dialog on its pane, no item in "Needs you".

Its model only through swarm's gateway (its network its own, by default for Aider): inside,
its base URL is the relay's and its key a placeholder; localmodel sees the person's key, put
on the wire outside; each stream asks for its usage (swarm's model settings file), so the
gateway's records and the ledger equal localmodel's counts; ``/web`` of another host is
refused by swarm's proxy and recorded outside.

One Aider for the module: the test runs in the one fixture that starts it."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from core.sandbox import DOOR_SWARM
from tests.agents import sandbox_live as box
from tests.agents.launch import AIDER_ARGS, AIDER_MODEL_INFO
from tests.agents.live import LocalModel, require_binary
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig, assign

pytestmark = pytest.mark.xdist_group("aider-live")

NO_PROMPT = "--yes-always"
KEY = "sk-aider-person-key-0123456789"  # the person's, outside only
ELSEWHERE = "example.com"  # no host of the model's: refused by the proxy
READY = "diff>"
PROMPT = "do the small task T-1"
SLOW = "work slowly on it"
SCRIPT = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "{SLOW}"
text = '''{"Working through it slowly, one careful piece at a time. " * 8}'''
chunk_chars = 4
chunk_delay = 0.5

[[turns]]
match = "{PROMPT}"
text = '''Writing it.

made-here.txt
```
<<<<<<< SEARCH
=======
made
>>>>>>> REPLACE
```

Then report:

```bash
{DOOR_SWARM} task start T-1 --note from-aider && touch reported.txt
```
'''
"""


def setup_aider(rig: SandboxRig, model: LocalModel) -> None:
    """Aider on localmodel's Chat Completions (its OpenAI variables outside, which enter as
    its family), the model's context window in ``~/.aider.model.metadata.json``, and the
    person's git identity in their own ``~/.gitconfig`` only, as a person has it: it is not
    shown inside, and swarm passes the identity in as git configuration (before, Aider found
    none, wrote one into ``.git/config``, read-only there, and stopped)."""
    metadata = rig.user / ".aider.model.metadata.json"
    metadata.write_text(json.dumps(AIDER_MODEL_INFO), encoding="utf-8")
    for key, value in (("user.name", "Pat Person"), ("user.email", "pat@example.com")):
        subprocess.run(["git", "config", "--file", str(rig.user / ".gitconfig"), key, value],
                       check=True, timeout=30)  # fmt: skip
    for key in ("user.name", "user.email"):  # none of the repository's own
        subprocess.run(["git", "-C", str(rig.repo), "config", "--unset", key], timeout=30,
                       check=False)  # fmt: skip
    rig.env.update(OPENAI_API_BASE=f"{model.url}/v1", OPENAI_API_KEY=KEY,
                   TERM="xterm-256color")  # fmt: skip


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxRig, LocalModel]]:
    binary = require_binary("aider")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    root = tmp_path_factory.mktemp("aider").resolve()
    made = SandboxRig(root, sandbox=True)
    model = LocalModel(root, SCRIPT)
    setup_aider(made, model)
    command = [str(binary), NO_PROMPT, "--disable-playwright", *AIDER_ARGS]  # /web: httpx
    box.use_command(made, "aider", " ".join(command))
    try:
        yield made, model
    finally:
        box.stop(made, model)


@pytest.mark.timeout(300)
def test_aider_always_yes_writes_unasked_and_declines_the_shell_command_unasked(
    rig: tuple[SandboxRig, LocalModel],
) -> None:
    made, model = rig
    tally = box.Tally()
    box.start(made, "aider", READY, tally)
    asyncio.run(assign(made, "small task"))
    box.send(made, PROMPT)
    work = made.ws["Agent-1"]
    box.until(made, "aider", "Then report:", tally, timeout=120)
    deadline = time.monotonic() + 60
    while not box.screen(made).rstrip().endswith(READY):  # back at its input
        assert time.monotonic() < deadline, box.screen(made)
        assert box.dialog(made, "aider") is None, box.screen(made)
        time.sleep(0.2)
    assert (tally.dialogs, box.inbox(made)) == ([], []), tally
    assert (work / "made-here.txt").read_text() == "made\n"
    assert not (work / "reported.txt").exists(), box.screen(made)
    shown = made.swarm("task", "show", "T-1").stdout
    assert "status:      assigned" in shown, shown  # the shell's report never ran
    assert "Applied edit to made-here.txt" in box.screen(made)
    asked = [r["path"] for r in model.requests() if PROMPT in str(r.get("prompt"))]
    assert asked == ["/v1/chat/completions"], asked  # one turn: nothing sent back after
    _through_the_gateway(made, model)
    # a person's Ctrl+C in its pane mid-answer (as swarm's stop presses it) is Aider's to
    # take: its answer stopped, "^C again to exit", the sandbox's bwrap the same process after
    pane = made.tmux("display-message", "-p", "-t", "swarm-Agent-1", "#{pane_pid}").stdout
    box.send(made, SLOW)
    box.until(made, "aider", "Working through it", tally, timeout=120)
    assert made.tmux("send-keys", "-t", "swarm-Agent-1", "C-c").returncode == 0
    deadline = time.monotonic() + 30
    while "^C again to exit" not in box.screen(made):
        assert time.monotonic() < deadline, box.screen(made)
        time.sleep(0.1)
    time.sleep(2.5)  # past Aider's 2 s window for a second Ctrl+C; no bwrap ended by the first
    after = made.tmux("display-message", "-p", "-t", "swarm-Agent-1", "#{pane_pid} #{pane_dead}")
    assert after.stdout.split() == [pane.strip(), "0"], (after.stdout, box.screen(made))


def _through_the_gateway(made: SandboxRig, model: LocalModel) -> None:
    """Inside, its base URL the relay's and its key the placeholder (its process's
    environment); outside, every request with the person's key and its usage asked and
    booked as localmodel counted it; another host refused by the proxy."""
    inside = box.environ_inside(made, "aider")
    assert KEY not in "\n".join(inside.values()), "the person's key is inside the sandbox"
    assert inside["OPENAI_API_BASE"] == "http://127.0.0.1:4180/v1", inside
    assert inside["OPENAI_API_KEY"] == "swarm-gateway-holds-the-key", inside
    asked = box.through_the_gateway(made, model, "/v1/chat/completions")
    streamed = [r["body"] for r in asked if r["body"].get("stream")]
    assert streamed and all(b["stream_options"] == {"include_usage": True} for b in streamed)
    box.send(made, f"/web http://{ELSEWHERE}/")
    deadline = time.monotonic() + 60
    while ELSEWHERE not in box.refused_hosts(made):
        assert time.monotonic() < deadline, box.screen(made)
        time.sleep(0.2)
