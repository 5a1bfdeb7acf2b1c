"""The real opencode (pinned) does a small task inside swarm's bubblewrap sandbox in its
no-prompt mode, started by ``swarm desktop up --headless`` with ``sandbox = true`` and ``mcp =
true`` as a user starts it: every permission allowed by ``OPENCODE_PERMISSION`` in the
agent's ``[desktop.agent.Agent-1.env]`` (opencode 1.18.33 merges that JSON over its config's
``permission``; nothing is written to the person's ``opencode.json``). Its shell writes a file
in its worktree, reads outside it (swarm's database, a key in ``~/.ssh``: opencode's
``external_directory`` permission, which its build agent asks by default) and reports ``swarm
task start`` through its door; swarm's MCP ``report`` tool reports ``done``; no dialog on its
pane and no item in "Needs you"; neither file could be read from inside.

Its model only through swarm's gateway (its network its own, by default for opencode): the
person's ``opencode.json`` names ``{env:OPENAI_BASE_URL}`` and ``{env:OPENAI_API_KEY}`` (the
recipe's), which hold the relay's URL and a placeholder inside; localmodel sees the person's
key, put on the wire outside; the gateway's records, its session titles' requests among
them, and the ledger equal localmodel's counts; ``curl`` of another host from its shell is
refused by swarm's proxy and recorded outside.

One opencode for the module: the test runs in the one fixture that starts it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from tests.agents import sandbox_live as box
from tests.agents.launch import OPENCODE_OFFLINE
from tests.agents.live import LocalModel, require_binary
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig

pytestmark = pytest.mark.xdist_group("opencode-live")

PERMISSION = '{"*": "allow"}'  # every permission, every pattern: nothing asked
READY = "Ask anything"
KEY = "sk-opencode-person-key-0123456789"  # the person's, outside only
ELSEWHERE = "example.com"  # no host of the model's: refused by the proxy
REACH = f"""
[[turns]]
match = "reach elsewhere"
steps = [{{ text = "Trying.", shell = "curl -s -m 10 http://{ELSEWHERE}/ -o /dev/null; true" }},
         {{ text = "elsewhere tried" }}]
"""


def setup_opencode(rig: SandboxRig, model: LocalModel) -> None:
    """The person's ``~/.config/opencode/opencode.json`` (its provider's URL and key read
    from ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``, which name localmodel outside, as the
    recipe has it; no update nor share; no ``permission`` block) and the agent's
    ``OPENCODE_PERMISSION`` in the agents file; opencode kept offline (tests/agents/launch.py's
    variables)."""
    provider = {
        "npm": "@ai-sdk/openai-compatible",
        "name": "localmodel",
        "options": {"baseURL": "{env:OPENAI_BASE_URL}", "apiKey": "{env:OPENAI_API_KEY}"},
        "models": {"local-model": {"name": "Local model"}},
    }
    config = {"autoupdate": False, "share": "disabled", "model": "local/local-model",
              "provider": {"local": provider}}  # fmt: skip
    folder = rig.user / ".config" / "opencode"
    folder.mkdir(parents=True)
    (folder / "opencode.json").write_text(json.dumps(config), encoding="utf-8")
    rig.env.update({**OPENCODE_OFFLINE, "TERM": "xterm-256color",
                    "OPENAI_BASE_URL": model.url + "/v1", "OPENAI_API_KEY": KEY})  # fmt: skip
    with rig.config.open("a", encoding="utf-8") as agents:
        agents.write(
            f"\n[desktop.agent.Agent-1.env]\nOPENCODE_PERMISSION = {json.dumps(PERMISSION)}\n"
        )


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxRig, LocalModel]]:
    binary = require_binary("opencode")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    root = tmp_path_factory.mktemp("opencode").resolve()
    made = SandboxRig(root, sandbox=True)
    model = LocalModel(root, box.script(made, sandboxed=True) + REACH)
    box.use_command(made, "opencode", str(binary), mcp=True)
    setup_opencode(made, model)
    try:
        yield made, model
    finally:
        box.stop(made, model)


@pytest.mark.timeout(300)
def test_opencode_with_every_permission_allowed_does_a_task_in_the_sandbox_unasked(
    rig: tuple[SandboxRig, LocalModel],
) -> None:
    made, model = rig
    tally = box.Tally()
    box.start(made, "opencode", READY, tally)
    box.wait_mcp(made, "opencode", model, tally, timeout=150)
    box.do_task(made, "opencode", tally)
    assert (tally.dialogs, tally.items) == ([], []), tally
    work = made.ws["Agent-1"]
    assert (work / "made-here.txt").read_text() == "made\n"
    seen = (work / "seen.txt").read_text()
    assert "db=hidden" in seen and "ssh=hidden" in seen and "SECRET" not in seen, seen
    assert "T-1 [in_progress]" in seen, seen  # the shell's report, through the door
    shown = made.swarm("task", "show", "T-1").stdout
    assert "status:      done" in shown and "in-bwrap" in shown, shown  # its MCP report
    assert "Permission required" not in box.screen(made)
    _through_the_gateway(made, model, tally)


def _through_the_gateway(made: SandboxRig, model: LocalModel, tally: box.Tally) -> None:
    """Inside, its base URL the relay's and its key the placeholder (its process's
    environment); outside, every request with the person's key and its usage booked as
    localmodel counted it; another host refused by the proxy."""
    inside = box.environ_inside(made, "opencode")
    assert KEY not in "\n".join(inside.values()), "the person's key is inside the sandbox"
    assert inside["OPENAI_BASE_URL"] == "http://127.0.0.1:4180/v1", inside
    assert inside["OPENAI_API_KEY"] == "swarm-gateway-holds-the-key", inside
    box.send(made, "reach elsewhere")
    box.until(made, "opencode", "elsewhere tried", tally, timeout=120)
    assert ELSEWHERE in box.refused_hosts(made)
    # its start's install of @opencode-ai/plugin, turned off as its recipe does
    assert "registry.npmjs.org" not in box.refused_hosts(made)
    box.through_the_gateway(made, model, "/v1/chat/completions")
