"""Mistral Vibe (``mistral-vibe`` on PyPI): ``vibe``, its Rust TUI, and ``vibe-acp`` beside it
in the same install, which speaks ACP (its protocol route; it takes none of ``vibe``'s
options). Any OpenAI-compatible API as a provider of ``$VIBE_HOME/config.toml`` (default
``~/.vibe``: ``[[providers]]`` with ``api_base`` and ``api_key_env_var``, ``[[models]]``,
``active_model``), which also holds its sessions (``logs/session/``) and its log. At its
default mode (accept edits) it asks before a shell command; over ACP its turn's end carries
its session's usage so far, and its session's config options name its model (its alias).
``/clear`` starts a new conversation; ``--continue`` resumes the latest saved one."""

from pathlib import Path

from core.clis.base import AgentCli

CLI = AgentCli(
    name="mistral-vibe",
    env_family=("MISTRAL_*", "VIBE_*"),
    credentials=("MISTRAL_API_KEY",),  # its default provider's; a custom one names its own
    title="Mistral Vibe",
    programs=("vibe",),
    folder=Path(__file__).parent,
    state=(".vibe/",),
    resume_option="--continue",
    reset=("text:/clear", "enter"),
    protocol="acp",
    protocol_adapter="vibe-acp",
    adapter_package="mistral-vibe",
    # its ACP turn end's usage is its session's running total (3.0.2, measured), not the
    # turn's: its host journals what each turn added to it
    protocol_usage="turn_end",
    cumulative_usage=True,
)
