"""The real Qwen Code (pinned in tools/install_agents.py) over the protocol route: started
ONCE for the module by ``swarm desktop up --protocol`` as a user starts it (``qwen`` from the
agents file's ``[desktop]`` section, ``--acp`` added by its CLI's folder, its own HOME whose
settings choose its OpenAI-compatible API) under swarm's host, against localmodel's Chat
Completions; swarm's own deliverer, scheduler and protocol watch on a real store.

The CLI added to show that adding one is one folder (``core/clis/qwen_code/``) and its pin.
Skipped with the reason when the binary is missing or another version (a failure under
``SWARM_REQUIRE_AGENTS=1``; ``SWARM_QWEN_BIN`` names another binary: tests/agents/live.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.hosts import running
from tests.agents.live import LocalModel, base_env, require_binary
from tests.agents.test_protocol_live import AGENT, Rig, Swarm, started, work_folder
from tests.agents.test_protocol_live import swarm as swarm  # the same coordinator parts

pytestmark = pytest.mark.xdist_group("qwen-code-live")  # one worker starts it, once

CLI = "qwen-code"
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "say hello"
text = "hello from localmodel"

[[turns]]
match = "say goodbye"
text = "goodbye from localmodel"
"""


def _home(home: Path, url: str) -> dict[str, str]:
    """Qwen Code's HOME choosing its OpenAI-compatible API (its ``security.auth``), and the
    environment that names the endpoint, the key and the model."""
    (home / ".qwen").mkdir(parents=True)
    settings = {"security": {"auth": {"selectedType": "openai"}}}
    (home / ".qwen" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    return {**base_env(home), "OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-local",
            "OPENAI_MODEL": "local-model"}  # fmt: skip


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """Qwen Code started by ``swarm desktop up --protocol`` (its host outlives the command)."""
    binary = require_binary(CLI)
    root = tmp_path_factory.mktemp("protocol-qwen").resolve()
    work_folder(root)
    model = LocalModel(root, SCRIPT)
    with started(CLI, root, model, str(binary), _home(root / "home", model.url)) as made:
        yield made


@pytest.mark.timeout(300)
async def test_a_task_prompt_over_acp_is_taken_and_its_turn_ends(rig: Rig, swarm: Swarm) -> None:
    """The prompt reaches the model through ``qwen --acp`` (the command swarm made of the
    user's ``qwen``), and its turn's end, as the agent says it, makes it idle."""
    task, _ = await swarm.said_hello(rig.model)
    await swarm.service.tasks.complete(task.ref, AGENT)


def test_its_host_runs_the_users_command_with_acp(rig: Rig) -> None:
    """``swarm desktop up --protocol`` ran the agents file's ``qwen`` with ``--acp`` after
    the program (its folder's ``protocol_args``), under swarm's host."""
    pid = running.host_pid(rig.home, AGENT)
    assert pid is not None
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")
    assert argv[1:4] == ["-I", "-m", "bot.protocol_host"], argv  # isolated: issue 77
    assert argv[argv.index("--") + 1 :][1:] == ["--acp"], argv
