"""Qwen Code (Alibaba, a Gemini CLI fork): ``qwen``, any OpenAI-compatible API
(``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``OPENAI_MODEL``). ``/clear`` starts a new
conversation (0.24.4's command, aliases ``reset``, ``new``); ``--continue`` resumes the
project's latest session; ``--acp`` speaks ACP (its protocol route). It reads MCP servers
from the workspace's ``.qwen/settings.json`` (``mcpServers``, what ``qwen mcp add -s
project`` writes). No ``report_args``: its command rules (``--allowed-tools``,
``permissions.allow``) let a ``"$(...)"`` argument or a variable before the command through
(0.24.4; docs/agents.md, swarm's own reports)."""

from pathlib import Path

from core.clis.base import AgentCli
from core.clis.mcp_files import JsonFile

MCP = JsonFile(Path(".qwen") / "settings.json", "mcpServers").files()

CLI = AgentCli(
    name="qwen-code",
    env_family=("OPENAI_*", "DASHSCOPE_*", "QWEN_*"),
    credentials=("OPENAI_API_KEY", "DASHSCOPE_API_KEY"),
    title="Qwen Code",
    placeholders=("Type your message or @path/to/file",),
    programs=("qwen",),
    folder=Path(__file__).parent,
    state=(".qwen/",),
    mcp=MCP,
    resume_option="--continue",
    reset=("text:/clear", "enter"),
    protocol="acp",
    protocol_args=("--acp",),
)
