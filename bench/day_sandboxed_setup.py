"""Issue 79's sandboxed day set up as a person sets it up, from the docs alone
(``bench/day_sandboxed.py``): one HOME and one SWARM_HOME outside ``/tmp``, a git repository
as the project, the five pinned CLIs each configured in that HOME as docs/agents.md's rows
and tests/agents/launch.py say (against its own ``python -m localmodel``), and the agents file
written with each CLI's no-prompt command of docs/agents.md's sandbox table. Every doc line
followed is kept in ``FOLLOWED`` (printed with the day's figures); what the docs did not say
is in ``FINDINGS``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from core.sandbox import DOOR_SWARM  # noqa: E402
from tests.agents.launch import AIDER_MODEL_INFO, CLAUDE_KEY  # noqa: E402
from tests.agents.live import BASE_PATH, LocalModel, require_binary  # noqa: E402

FOLLOWED: list[str] = []
FINDINGS: list[str] = []
MARK = ".day-sandboxed"  # the day's folder: removed only when it carries this file
REPO = "app"
KEYS = {"MY_LLM_KEY": CLAUDE_KEY}  # the person's key (agents.md's recipes' variable)
MODEL = "local-model"  # the recipes' $MODEL: the name the server serves (swarm prices it)
GUIDELINES = "please read the new guidelines"
SLOW_TEXT = "Working through it slowly, one careful piece at a time. " * 8  # ~55 s at 4/0.5
MEDIUM_TEXT = "Working on it, this takes a few seconds. " * 3  # ~16 s at 4 chars / 0.5 s


@dataclass
class Agent:
    """One sandboxed agent: its id, CLI, route, its model server and worktree."""

    id: str
    cli: str
    route: str  # "protocol" or "tmux"
    model: LocalModel | None = None
    work: Path = Path()


AGENTS = (
    ("Claude-1", "claude-code", "protocol"),
    ("Codex-1", "codex", "protocol"),
    ("Gemini-1", "gemini", "protocol"),
    ("Opencode-1", "opencode", "tmux"),
    ("Aider-1", "aider", "tmux"),
)


@dataclass
class Job:
    """One task of the day: its expected number (``T-n``: a fresh store numbers tasks in
    the order they are added), its agent, kind and the jobs it waits for."""

    n: int
    agent: str
    kind: str  # plain, slow, medium, quiet, ask, host
    after: list[int] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"T-{self.n}"

    @property
    def title(self) -> str:
        return f"[job-{self.n:02d}] {self.kind} work"


@dataclass
class Day:
    """The day's folders, the person's environment, its agents and jobs."""

    root: Path
    agents: list[Agent]
    jobs: list[Job] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def user(self) -> Path:
        return self.root / "user"

    @property
    def home(self) -> Path:
        return self.root / "swarm"

    @property
    def repo(self) -> Path:
        return self.root / REPO

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def agent(self, agent_id: str) -> Agent:
        return next(a for a in self.agents if a.id == agent_id)


def followed(doc: str, line: str) -> None:
    """One doc line the set-up followed."""
    FOLLOWED.append(f"{doc}: {line}")


def fresh_root(root: Path) -> None:
    """The day's folder made anew; an existing one is removed only when the day made it."""
    if root.exists():
        if not (root / MARK).exists():
            raise SystemExit(f"{root} exists and is not a day's folder: choose another --home")
        shutil.rmtree(root)
    if str(root.resolve()).startswith(("/tmp/", "/var/tmp/")):
        raise SystemExit("the day's HOME must not be under /tmp (Codex refuses its helpers)")
    root.mkdir(parents=True)
    (root / MARK).write_text("bench/day_sandboxed.py\n")


def person_env(day: Day, web_port: int) -> dict[str, str]:
    """The person's shell: their HOME, swarm's home, the dashboard's port, their keys."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SWARM_", "TMUX"))}
    for name in ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "XDG_RUNTIME_DIR"):
        keep.pop(name, None)
    return {
        **keep, "HOME": str(day.user), "PATH": f"{Path(sys.executable).parent}:{BASE_PATH}",
        "XDG_CONFIG_HOME": str(day.user / ".config"), "SWARM_HOME": str(day.home),
        "SWARM_WEB_PORT": str(web_port), "LANG": "C.UTF-8", "TERM": "xterm-256color",
        "PYTHONPATH": str(ROOT), **KEYS,
    }  # fmt: skip


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, timeout=60,
                   capture_output=True)  # fmt: skip


def make_repo(day: Day) -> None:
    """The person's git identity in their ``~/.gitconfig`` and the project, one commit."""
    day.user.mkdir()
    env = {**day.env, "GIT_CONFIG_GLOBAL": str(day.user / ".gitconfig")}
    git("config", "--global", "user.name", "Pat Person", env=env)
    git("config", "--global", "user.email", "pat@example.com", env=env)
    followed("agents.md (Aider row)", "its git identity is yours: ~/.gitconfig's user.name/email")
    day.repo.mkdir()
    git("init", "-q", "-b", "main", cwd=day.repo, env=env)
    (day.repo / "README.md").write_text("# app\n")
    git("add", "README.md", cwd=day.repo, env=env)
    git("commit", "-q", "-m", "start", cwd=day.repo, env=env)


# -- each CLI's own configuration in the person's HOME -------------------------------------


def configure_clis(day: Day) -> None:
    """Each CLI's files in the person's HOME as agents.md's recipe ("Pointing an agent at
    another model API") writes them, ``$GATEWAY_URL`` its own localmodel, ``$WORK`` its
    worktree (``swarm desktop up``: the agent's worktree)."""
    user = day.user
    for agent in day.agents:
        agent.work = day.home / "workspaces" / REPO / agent.id
    url = {a.id: a.model.url for a in day.agents if a.model is not None}
    claude, codex = day.agent("Claude-1"), day.agent("Codex-1")
    state = {
        "hasCompletedOnboarding": True,
        "customApiKeyResponses": {"approved": [KEYS["MY_LLM_KEY"][-20:]], "rejected": []},
        "projects": {str(claude.work): {"hasTrustDialogAccepted": True}},
    }
    (user / ".claude.json").write_text(json.dumps(state, indent=2))
    (user / ".claude.json").chmod(0o600)
    followed("agents.md recipe claude-code", "~/.claude.json: onboarding, the key approved, "
             "$WORK trusted")  # fmt: skip
    (user / ".claude").mkdir()
    (user / ".claude" / "settings.json").write_text(
        json.dumps({"skipDangerousModePermissionPrompt": True})
    )
    followed("agents.md sandbox table", "Claude Code: its warning skipped by "
             "skipDangerousModePermissionPrompt; IS_SANDBOX=1 as root")  # fmt: skip
    (user / ".codex").mkdir()
    (user / ".codex" / "config.toml").write_text(f"""model = "{MODEL}"
model_provider = "gateway"

[model_providers.gateway]
name = "my gateway"
base_url = "{url["Codex-1"]}/v1"
env_key = "MY_LLM_KEY"
wire_api = "responses"

[projects."{codex.work}"]
trust_level = "trusted"

[features]
daemon_auto_start = false
""")
    followed("agents.md recipe codex", "~/.codex/config.toml: provider, $WORK trusted, "
             "daemon_auto_start = false")  # fmt: skip
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"},
                     "folderTrust": {"enabled": False}},
        "general": {"disableAutoUpdate": True},
        "privacy": {"usageStatisticsEnabled": False},
    }  # fmt: skip
    (user / ".gemini").mkdir()
    (user / ".gemini" / "settings.json").write_text(json.dumps(settings, indent=2))
    followed("agents.md recipe gemini", "~/.gemini/settings.json: API-key login, trust off, "
             "usage statistics off")  # fmt: skip
    provider = {
        "npm": "@ai-sdk/openai-compatible", "name": "my gateway",
        "options": {"baseURL": "{env:OPENAI_BASE_URL}", "apiKey": "{env:OPENAI_API_KEY}"},
        "models": {MODEL: {"name": MODEL}},
    }  # fmt: skip
    config = {"$schema": "https://opencode.ai/config.json", "model": f"gateway/{MODEL}",
              "autoupdate": False, "provider": {"gateway": provider}}  # fmt: skip
    (user / ".config" / "opencode").mkdir(parents=True)
    (user / ".config" / "opencode" / "opencode.json").write_text(json.dumps(config, indent=2))
    followed("agents.md recipe opencode", "~/.config/opencode/opencode.json, baseURL "
             "{env:OPENAI_BASE_URL}, apiKey {env:OPENAI_API_KEY}")  # fmt: skip
    (user / ".aider.conf.yml").write_text(
        f"model: openai/{MODEL}\ncheck-update: false\nanalytics-disable: true\n"
        "show-release-notes: false\ngitignore: false\n"
    )
    (user / ".aider.model.metadata.json").write_text(json.dumps(
        {f"openai/{MODEL}": AIDER_MODEL_INFO["openai/local-model"]}))  # fmt: skip
    followed("agents.md recipe aider", "~/.aider.conf.yml, ~/.aider.model.metadata.json")


# -- the agents file -----------------------------------------------------------------------


def commands(day: Day) -> dict[str, tuple[str, dict[str, str]]]:
    """Each agent's command and its ``[desktop.agent.A.env]``: the no-prompt mode of
    agents.md's sandbox table, the recipe's ``export`` lines (the key named, never written:
    desktop.md), the gateway's upstream the CLI's base URL variable (configuration.md)."""
    url = {a.id: a.model.url for a in day.agents if a.model is not None}
    key = "$MY_LLM_KEY"
    return {
        "Claude-1": (f"{require_binary('claude-code')} --dangerously-skip-permissions",
                     {"ANTHROPIC_BASE_URL": url["Claude-1"], "ANTHROPIC_API_KEY": key,
                      "ANTHROPIC_MODEL": MODEL, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                      "DISABLE_AUTOUPDATER": "1", "IS_SANDBOX": "1"}),
        "Codex-1": (f"{require_binary('codex')} -c approval_policy=never "
                    "-c sandbox_mode=danger-full-access",
                    {"OPENAI_BASE_URL": url["Codex-1"] + "/v1", "OPENAI_API_KEY": key}),
        "Gemini-1": (f"{require_binary('gemini')} --approval-mode yolo",
                     {"GOOGLE_GEMINI_BASE_URL": url["Gemini-1"], "GEMINI_API_KEY": key,
                      "GEMINI_MODEL": MODEL}),
        "Opencode-1": (str(require_binary("opencode")),
                       {"OPENCODE_PERMISSION": '{"*": "allow"}',
                        "OPENAI_BASE_URL": url["Opencode-1"] + "/v1", "OPENAI_API_KEY": key,
                        "OPENCODE_DISABLE_MODELS_FETCH": "1",
                        "OPENCODE_DISABLE_AUTOUPDATE": "1",
                        "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
                        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1", "npm_config_offline": "true"}),
        "Aider-1": (f"{require_binary('aider')} --yes-always",
                    {"OPENAI_API_BASE": url["Aider-1"] + "/v1", "OPENAI_API_KEY": key,
                     "LITELLM_LOCAL_MODEL_COST_MAP": "True"}),
    }  # fmt: skip


def write_agents(day: Day) -> Path:
    """``$SWARM_HOME/agents.toml``: the five agents sandboxed, the three protocol CLIs
    marked ``delivery = "protocol"`` (desktop.md, "A mixed fleet on one machine")."""
    lines: list[str] = []
    for agent in day.agents:
        lines += ["[[agent]]", f'id = "{agent.id}"', 'role = "dev"', f'cli = "{agent.cli}"',
                  "sandbox = true"]  # fmt: skip
        if agent.route == "protocol":
            lines.append('delivery = "protocol"')
        if agent.cli == "opencode":  # its config names the key's variable (agents.md)
            lines.append('sandbox_env = ["MY_LLM_KEY"]')
        lines.append("")
    for agent_id, (command, env) in commands(day).items():
        lines += [f"[desktop.agent.{agent_id}]", f"command = {json.dumps(command)}", "",
                  f"[desktop.agent.{agent_id}.env]"]  # fmt: skip
        lines += [f"{k} = {json.dumps(v)}" for k, v in env.items()]
        lines.append("")
    day.home.mkdir(exist_ok=True)
    path = day.home / "agents.toml"
    path.write_text("\n".join(lines))
    followed("configuration.md", "the agents file at $SWARM_HOME/agents.toml; sandbox = true")
    followed("desktop.md", 'a mixed fleet: delivery = "protocol" marked, swarm desktop up '
             "--headless")  # fmt: skip
    followed("desktop.md", "[desktop.agent.A] command, [desktop.agent.A.env] (secrets "
             'named: NAME = "$VAR")')  # fmt: skip
    followed("configuration.md", "the gateway's upstream: the CLI's base URL variable in "
             "[desktop.agent.A.env]")  # fmt: skip
    for row in ("Claude Code: claude --dangerously-skip-permissions",
                "codex-acp: codex -c approval_policy=never -c sandbox_mode=danger-full-access",
                "Gemini CLI: gemini --approval-mode yolo",
                "opencode: OPENCODE_PERMISSION = '{\"*\": \"allow\"}' in [desktop.agent.A.env]",
                "Aider: aider --yes-always"):  # fmt: skip
        followed("agents.md sandbox table", row)
    return path


# -- the model's script --------------------------------------------------------------------


def toml_value(value: Any) -> str:
    """``value`` as a TOML inline value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"


ASKED = {"questions": [{
    "question": "Which database should we use?", "header": "Database", "multiSelect": False,
    "options": [{"label": "Postgres", "description": "the server one"},
                {"label": "SQLite", "description": "one file"}],
}]}  # fmt: skip


def steps(job: Job, cli: str) -> list[dict[str, Any]]:
    """What the model does for ``job``'s prompt: report through the door (Aider cannot:
    its shell command is declined in ``--yes-always``), stream slowly, or ask."""
    report = f"{DOOR_SWARM} task done {job.ref} --note done-by-the-model"
    done = [{"text": f"Doing {job.title}.", "shell": report}, {"text": f"reported {job.ref}"}]
    slow = {"chunk_chars": 4, "chunk_delay": 0.5}
    if job.kind == "slow":
        return [{"text": SLOW_TEXT, **slow}]
    if job.kind in ("medium", "quiet") or cli == "aider":
        said = MEDIUM_TEXT if job.kind in ("medium", "quiet") else f"Nothing to change: {job.ref}."
        if job.kind == "medium" and cli != "aider":
            return [{"text": said, "shell": report, **slow}, {"text": f"reported {job.ref}"}]
        return [{"text": said, **(slow if job.kind != "plain" else {})}]
    if job.kind == "ask":
        return [{"text": "Asking first.", "tool": "AskUserQuestion", "input": ASKED}, *done]
    return done


def script(day: Day, agent: Agent) -> str:
    """The agent's model script: each of its jobs' prompt (``| task T-n |``) and a note
    about it (``| about T-n |``: a nudge, an answer) answered; a broadcast read."""
    turns = [{"match": GUIDELINES, "steps": [{"text": "read them"}]}]
    for job in (j for j in day.jobs if j.agent == agent.id):
        turns.append({"match": f"| task {job.ref} |", "steps": steps(job, agent.cli)})
        report = f"{DOOR_SWARM} task done {job.ref} --note after-the-note"
        about = ([{"text": "Noted."}] if job.kind == "slow" or agent.cli == "aider" else
                 [{"text": "Reporting.", "shell": report}, {"text": "reported"}])  # fmt: skip
        turns.append({"match": f"| about {job.ref} |", "steps": about})
    lines = ['default = [{ text = "ok" }]', ""]
    for turn in turns:
        lines += ["[[turns]]", f"match = {toml_value(turn['match'])}",
                  f"steps = {toml_value(turn['steps'])}", ""]  # fmt: skip
    return "\n".join(lines)


def start_models(day: Day) -> None:
    """One ``python -m localmodel`` per agent with its script."""
    for agent in day.agents:
        folder = day.root / "models" / agent.id
        folder.mkdir(parents=True)
        agent.model = LocalModel(folder, script(day, agent))


def swarm(
    day: Day, *args: str, timeout: float = 300, check: bool = True, said: bool = False
) -> str:
    """``swarm ARGS`` as the person runs it; its standard output (``said``: and its
    standard error after it); SystemExit on failure."""
    done = subprocess.run([sys.executable, "-m", "bot.cli.main", *args], cwd=day.root,
                          env=day.env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    if check and done.returncode != 0:
        raise SystemExit(f"swarm {' '.join(args)}: {done.stdout.strip()} {done.stderr.strip()}")
    return done.stdout + (done.stderr if said else "")


def admin_token(day: Day) -> str:
    """``swarm web token create --role admin``: the dashboard's token (dashboard.md)."""
    said = swarm(day, "web", "token", "create", "--role", "admin", "--name", "day", said=True)
    found = re.search(r"swt_[A-Za-z0-9_-]{20,}", said)
    if found is None:
        raise SystemExit(f"no token in: {said!r}")
    followed("dashboard.md", "swarm web token create --role admin --name day")
    return found.group(0)


def set_up(day: Day) -> str:
    """The whole set-up to ``desktop up``; the admin token."""
    make_repo(day)
    start_models(day)
    write_agents(day)
    swarm(day, "workspaces", "init", str(day.repo))
    followed("workspaces.md", "swarm workspaces init ~/src/app: one worktree per agent")
    configure_clis(day)
    up = swarm(day, "desktop", "up", "--headless", timeout=600, said=True)
    (day.logs / "desktop-up-1.txt").write_text(up)
    return admin_token(day)
