"""Codex CLI (OpenAI): ``codex``. Started with its background app-server off: else one
outlives the agent's session (measured with 0.169: ``codex app-server --managed-daemon``
left running after its pane ended; none with the option). ``/clear`` clears the terminal and
starts a new chat; its ``/new`` ("start a new chat during a conversation") asks first, in a git
workspace, "Where should the new conversation run?" (current worktree or a new one): a dialog
the next prompt would be pasted into. At its default it runs each command unasked in its
sandbox, where swarm's home is writable (its MCP file): no ``report_args`` (an allow rule
would run a report outside the sandbox).

Through swarm's gateway (a sandbox's own network): Codex 0.169 reads no base URL from its
environment (``OPENAI_BASE_URL`` is not read: measured, its requests went to the public API),
and its built-in provider sends ``OPENAI_API_KEY`` from the environment only in ``exec``
(``CODEX_API_KEY``) and tries a WebSocket five times before HTTP. So swarm names a provider
of its own on the command line (``-c``, as ``codex`` and ``codex-acp`` both take it; nothing
is written to the person's ``config.toml``): the Responses API at the gateway's port, its key
read from ``OPENAI_API_KEY``, which holds a placeholder inside."""

from pathlib import Path

from core.clis.base import AgentCli, ModelChoice, ModelWire, SessionFiles
from core.clis.codex import rollout
from core.clis.codex.hooks import HOOKS
from core.clis.codex.mcp import MCP, session_args

GATEWAY = "swarm_gateway"  # the provider swarm names for its gateway (``-c``)
_PROVIDER = f"model_providers.{GATEWAY}"

CLI = AgentCli(
    name="codex",
    env_family=("OPENAI_*", "CODEX_*", "RUST_LOG"),
    credentials=("OPENAI_API_KEY", "CODEX_API_KEY"),
    model_wire=ModelWire(
        "openai",
        "OPENAI_BASE_URL",
        "https://api.openai.com",
        keys=("OPENAI_API_KEY", "CODEX_API_KEY"),
        token="OPENAI_API_KEY",
        suffix="/v1",
        args=(
            "-c",
            f'model_provider="{GATEWAY}"',
            "-c",
            f'{_PROVIDER}.name="swarm gateway"',
            "-c",
            f'{_PROVIDER}.base_url="{{url}}"',
            "-c",
            f'{_PROVIDER}.env_key="{{token}}"',
            "-c",
            f'{_PROVIDER}.wire_api="responses"',
        ),
    ),
    title="Codex CLI",
    placeholders=("Ask Codex to do anything",),
    programs=("codex",),
    folder=Path(__file__).parent,
    state=(".codex/",),
    hooks=HOOKS,
    mcp=MCP,
    reports_by_mcp=True,  # its workspace-write sandbox keeps its shell from swarm's home
    resume_subcommand="resume --last",
    launch_args=("-c", "features.daemon_auto_start=false"),
    turn_start=("UserPromptSubmit",),  # from its .codex/hooks.json
    reset=("text:/clear", "enter"),
    protocol="acp",
    protocol_adapter="codex-acp",  # Codex's engine over ACP
    adapter_package="@zed-industries/codex-acp",
    mcp_args=session_args,  # swarm's tools trusted: its reports asked about by no one
    # codex-acp 0.16.0 ends a turn with no usage (its usage_update: the context's size);
    # it writes the rollout as Codex does
    protocol_usage="sessions",
    sessions=SessionFiles(
        "CODEX_HOME",
        ".codex",
        rollout.sessions_dir,
        rollout.reader,
        pattern=rollout.PATTERN,
        cwd_of=rollout.session_cwd,
        recent=rollout.recent,  # its sessions folder keeps every session it ran
    ),
    model=ModelChoice(("-m", "--model"), config=rollout.configured_model),  # default: not known
)
