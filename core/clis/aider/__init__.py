"""Aider: ``aider``. ``/clear`` clears the chat history (0.86's ``cmd_clear``; ``/reset``
drops the added files too). It reads no MCP server. One Ctrl+C stops its answer, streaming or
still waiting for the model, and leaves it at its input ("^C again to exit": 0.86.2 in a
pane); a second within 2 s quits it, so swarm presses one, and none at its idle input.
Escape does nothing.

Through swarm's gateway (a sandbox's own network): LiteLLM (its model client) reads its base
URL from ``OPENAI_BASE_URL``, else ``OPENAI_API_BASE``, and its key from ``OPENAI_API_KEY``.
It asks a Chat Completions stream for its usage (``stream_options.include_usage``) only when
that base URL is ``api.openai.com`` (LiteLLM 1.81.10's ``get_stream_options``), so through
the gateway its answers would carry none: a model settings file of swarm's, named on its
command line, adds the option to every model's requests (``aider/extra_params``; LiteLLM
sends it with a stream only). It replaces the person's own ``aider/extra_params`` entry."""

from pathlib import Path

from core.clis.base import AgentCli, ModelChoice, ModelWire

SETTINGS = "aider-model-settings.yml"  # beside the relay: read-only inside
ASK_USAGE = """\
# swarm's: every model's streams ask for their usage, which swarm's gateway reads
- name: aider/extra_params
  extra_params:
    stream_options:
      include_usage: true
"""

CLI = AgentCli(
    name="aider",
    env_family=("AIDER_*", "OPENAI_*", "ANTHROPIC_*"),
    credentials=("OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
    model_wire=ModelWire(  # an OpenAI-compatible API (its model named openai/...)
        "openai",
        "OPENAI_API_BASE",
        "https://api.openai.com",
        keys=("OPENAI_API_KEY",),
        token="OPENAI_API_KEY",
        suffix="/v1",
        args=("--model-settings-file", f"{{door}}/{SETTINGS}"),
        overrides=("OPENAI_BASE_URL",),
        files=((SETTINGS, ASK_USAGE),),
    ),
    title="Aider",
    programs=("aider",),
    folder=Path(__file__).parent,
    state=(".aider/", ".aider.conf.yml", ".aider.model.settings.yml", ".aider.model.metadata.json"),
    resume_option="--restore-chat-history",
    reset=("text:/clear", "enter"),
    interrupt=("ctrl+c",),
    interrupt_quits_s=2.0,  # base_coder.keyboard_interrupt: a second within 2 s exits
    model=ModelChoice(env=("AIDER_MODEL",)),  # its default depends on the keys it finds
)
