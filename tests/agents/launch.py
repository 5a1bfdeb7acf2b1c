"""Start any of the five pinned real CLIs in tmux against localmodel, at its input.

``launch(cli, root, script)`` is what each CLI's live test module does for itself, in one
place for the tests and benches that drive every CLI the same way (delivery through swarm's
own tmux deliverer: tests/agents/test_delivery_live.py, bench/real_delivery.py). Each CLI
gets its own HOME, a git work folder, and the settings that keep it offline and at its input
(no onboarding, no trust dialog, no update check, no telemetry).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.models import Agent
from tests.agents.live import LiveCLI, LocalModel, base_env, require_binary, start

CLAUDE_KEY = "sk-ant-localmodel-test-key-0123456789"
AIDER_ARGS = ["--model", "openai/local-model", "--edit-format", "diff", "--no-check-update",
              "--analytics-disable", "--no-show-release-notes", "--no-auto-commits",
              "--no-gitignore"]  # fmt: skip
# as docs/agents.md's recipe starts it: the model's own edit format ("whole" for a model
# LiteLLM does not know), so its prompt and its echo of a prompt are a bare "> "
AIDER_RECIPE_ARGS = [a for a in AIDER_ARGS if a not in ("--edit-format", "diff")]
AIDER_MODEL_INFO = {
    "openai/local-model": {"max_input_tokens": 128000, "max_output_tokens": 4096,
                           "litellm_provider": "openai", "mode": "chat"},
}  # fmt: skip
OPENCODE_OFFLINE = {
    "OPENCODE_DISABLE_MODELS_FETCH": "1", "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1", "OPENCODE_DISABLE_MOUSE": "1",
    "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
    "npm_config_offline": "true",  # its start installs @opencode-ai/plugin (64 MB) from npm
}  # fmt: skip
CLIS = ("claude-code", "codex", "gemini", "aider", "opencode")


@dataclass(frozen=True)
class Setup:
    """How one CLI starts: its argv and environment, and what its screen shows when ready."""

    argv: list[str]
    env: dict[str, str]
    ready: str


def _git(work: Path, commit: bool = False) -> None:
    """A git repository in ``work`` (with a first commit and a committer for Aider)."""
    steps = [["init", "-q"]]
    if commit:
        steps += [["config", "user.name", "swarm test"],
                  ["config", "user.email", "test@example.invalid"],
                  ["commit", "-q", "--allow-empty", "-m", "start"]]  # fmt: skip
    for args in steps:
        subprocess.run(["git", "-C", str(work), *args], check=True, timeout=30)


def _claude(binary: Path, home: Path, work: Path, url: str) -> Setup:
    (home / ".claude").mkdir(parents=True)
    state = {
        "hasCompletedOnboarding": True,
        "customApiKeyResponses": {"approved": [CLAUDE_KEY[-20:]], "rejected": []},
        "projects": {str(work): {"hasTrustDialogAccepted": True, "allowedTools": []}},
    }
    (home / ".claude.json").write_text(json.dumps(state), encoding="utf-8")
    (home / ".claude" / "settings.json").write_text("{}", encoding="utf-8")
    env = {**base_env(home), "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": CLAUDE_KEY,
           "DISABLE_AUTOUPDATER": "1"}  # fmt: skip
    return Setup([str(binary), "--permission-mode", "default"], env, "? for shortcuts")


def _codex(binary: Path, home: Path, work: Path, url: str) -> Setup:
    (home / ".codex").mkdir(parents=True)
    config = f"""model = "local-model"
model_provider = "local"

[model_providers.local]
name = "local"
base_url = "{url}/v1"
env_key = "LOCALMODEL_KEY"
wire_api = "responses"

[features]
daemon_auto_start = false

[projects."{work}"]
trust_level = "trusted"
"""
    (home / ".codex" / "config.toml").write_text(config, encoding="utf-8")
    env = {**base_env(home), "CODEX_HOME": str(home / ".codex"), "LOCALMODEL_KEY": "sk-local"}
    return Setup([str(binary)], env, "? for shortcuts")


def _gemini(binary: Path, home: Path, work: Path, url: str) -> Setup:
    settings = {
        "security": {"folderTrust": {"enabled": False},
                     "auth": {"selectedType": "gemini-api-key"}},
        "general": {"disableAutoUpdate": True},
        "privacy": {"usageStatisticsEnabled": False},
    }  # fmt: skip
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    env = {**base_env(home), "GOOGLE_GEMINI_BASE_URL": url, "GEMINI_API_KEY": "local"}
    return Setup([str(binary)], env, "Type your message or @path/to/file")


def _aider(binary: Path, home: Path, work: Path, url: str) -> Setup:
    caches = home / ".aider" / "caches"
    caches.mkdir(parents=True)
    prices = caches / "model_prices_and_context_window.json"
    prices.write_text(json.dumps(AIDER_MODEL_INFO), encoding="utf-8")
    env = {**base_env(home), "OPENAI_API_BASE": url + "/v1", "OPENAI_API_KEY": "sk-local"}
    return Setup([str(binary), *AIDER_ARGS], env, "diff>")


def _opencode(binary: Path, home: Path, work: Path, url: str) -> Setup:
    provider = {
        "npm": "@ai-sdk/openai-compatible",
        "name": "localmodel",
        "options": {"baseURL": url + "/v1", "apiKey": "sk-local"},
        "models": {"local-model": {"name": "Local model"}},
    }
    config = {"autoupdate": False, "share": "disabled", "model": "local/local-model",
              "provider": {"local": provider}}  # fmt: skip
    folder = home / ".config" / "opencode"
    folder.mkdir(parents=True)
    (folder / "opencode.json").write_text(json.dumps(config), encoding="utf-8")
    return Setup([str(binary)], {**base_env(home), **OPENCODE_OFFLINE}, "Ask anything")


def vibe_home(home: Path, url: str) -> dict[str, str]:
    """Mistral Vibe's HOME: ``~/.vibe/config.toml`` with localmodel as a provider (its key
    read from the variable it names) and its model active (alias ``local``); the
    environment with that key."""
    (home / ".vibe").mkdir(parents=True)
    config = f"""active_model = "local"

[[providers]]
name = "localmodel"
api_base = "{url}/v1"
api_key_env_var = "LOCALMODEL_KEY"
api_style = "openai"
backend = "generic"

[[models]]
name = "local-model"
provider = "localmodel"
alias = "local"
"""
    (home / ".vibe" / "config.toml").write_text(config, encoding="utf-8")
    return {**base_env(home), "LOCALMODEL_KEY": "sk-local"}


def _mistral_vibe(binary: Path, home: Path, work: Path, url: str) -> Setup:
    """Over the protocol route only (``vibe``, made ``vibe-acp`` by its CLI's folder): not
    one of ``CLIS``, started in tmux, so no screen is waited for."""
    return Setup([str(binary)], vibe_home(home, url), "")


SETUPS: dict[str, Callable[[Path, Path, Path, str], Setup]] = {
    "claude-code": _claude,
    "codex": _codex,
    "gemini": _gemini,
    "aider": _aider,
    "opencode": _opencode,
    "mistral-vibe": _mistral_vibe,
}


def launch(
    cli: str,
    root: Path,
    script: str,
    timeout: float = 90.0,
    work: Path | None = None,
    ready: str | None = None,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    bare: bool = False,
    wrap: Sequence[str] = (),
    wait_ready: bool = True,
) -> LiveCLI:
    """``cli`` running in tmux under ``root`` against a new localmodel with ``script``, once
    its screen shows it ready (or ``ready``); in ``work`` when given (a folder made ready
    by the caller: a git repository is made in it if none), else ``root/work``; with
    ``env`` added to its environment and ``args`` to its command line (a mode: Gemini CLI's
    ``--approval-mode yolo``); ``bare``: the binary alone before ``args``, without the mode
    the suite starts it in (Claude Code's ``--permission-mode default``), as a user starts it;
    ``wrap``: a command it runs under (a bwrap without user namespaces); ``wait_ready``
    False: returned as soon as its pane is made, its CLI still starting. Skipped with the
    reason when the binary is missing."""
    binary = require_binary(cli)
    home = root / "home"
    if work is None:
        work = root / "work"
        work.mkdir(parents=True)
    root.mkdir(parents=True, exist_ok=True)
    if not (work / ".git").exists():
        _git(work, commit=cli == "aider")
    model = LocalModel(root, script)
    setup = SETUPS[cli](binary, home, work, model.url)
    argv = [*wrap, *(setup.argv[:1] if bare else setup.argv), *args]
    live = start(cli.replace("-", ""), root, model, argv, {**setup.env, **(env or {})}, work)
    try:
        if wait_ready:
            live.wait(ready or setup.ready, timeout=timeout)
    except BaseException:
        stop(live)
        raise
    return live


def stop(live: LiveCLI) -> None:
    """End the CLI's tmux server and its model server."""
    live.tmux.stop()
    live.model.stop()


def agent_of(live: LiveCLI, cli: str, agent_id: str = "A") -> Agent:
    """The agents-file entry swarm would have for ``live``: a tmux agent with ``cli``'s rules
    and the terminal preset's keys."""
    return Agent(
        id=agent_id, role="dev", delivery="tmux", app="terminal", cli=cli,
        tmux=live.target, tmux_socket=str(live.tmux.socket), clear=("ctrl+e", "ctrl+u"),
        paste="ctrl+shift+v", submit="enter",
    )  # fmt: skip
