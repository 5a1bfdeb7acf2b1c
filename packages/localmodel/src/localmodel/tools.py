"""Which offered tool a step calls, and with what input.

A ``shell`` step uses the shell tool of the client that asked: Claude Code's ``Bash``
(``command``), Codex's ``exec_command`` (``cmd``) or ``shell`` (``command`` as an argv list),
Gemini CLI's ``run_shell_command``, opencode's ``bash``. The input is built from the tool's
schema, so a client's renamed argument still gets the command. A ``tool`` step names a tool;
an MCP tool matches by its plain name (``report`` is ``mcp__swarm__report``, ``swarm_report``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from localmodel.view import OfferedTool, View

TOOL_SEARCH = "ToolSearch"
# Claude Code lists the tools whose schemas it has not sent (MCP tools among them) by name, one
# a line, after a sentence saying they are available via ToolSearch.
_DEFERRED = re.compile(r"deferred tools[^\n]*ToolSearch[^\n]*\n((?:[A-Za-z0-9_.-]+\n?)+)")
SHELL_TOOLS = (
    "Bash",
    "exec_command",
    "shell_command",
    "shell",
    "run_shell_command",
    "bash",
)


@dataclass(frozen=True)
class Choice:
    """The tool to call and its input, or why none fits (``problem``)."""

    tool: OfferedTool | None
    arguments: dict[str, Any]
    problem: str = ""
    loads: bool = False  # a ToolSearch call loading the tool first


def shell_choice(
    tools: Sequence[OfferedTool], command: str, named: str | None, extra: Mapping[str, Any]
) -> Choice:
    """The shell tool to run ``command`` with (``named`` when the step names it)."""
    tool = find_tool(tools, named) if named else _first_shell(tools)
    if tool is None:
        wanted = repr(named) if named else "a shell tool (" + ", ".join(SHELL_TOOLS) + ")"
        return Choice(None, {}, f"no {wanted} among the offered tools {_names(tools)}")
    return Choice(tool, {**shell_arguments(tool, command), **extra})


def named_choice(view: View, name: str, arguments: Mapping[str, Any]) -> Choice:
    """The tool called ``name`` (or ``mcp__server__name``) with ``arguments``; when the client
    defers it (Claude Code's MCP tools), ToolSearch loading it first."""
    tool = find_tool(view.tools, name)
    if tool is not None:
        return Choice(tool, dict(arguments))
    search = find_tool(view.tools, TOOL_SEARCH)
    deferred = _match_name(view.deferred, name)
    if search is not None and deferred is not None:
        return Choice(search, {"query": f"select:{deferred}", "max_results": 5}, loads=True)
    return Choice(None, {}, f"no tool {name!r} among the offered tools {_names(view.tools)}")


def deferred_tools(text: str) -> tuple[str, ...]:
    """The names of the tools a request says are deferred (loaded through ToolSearch)."""
    names: list[str] = []
    for found in _DEFERRED.finditer(text):
        names += [n for n in found.group(1).split("\n") if n]
    return tuple(dict.fromkeys(names))


def find_tool(tools: Sequence[OfferedTool], name: str) -> OfferedTool | None:
    """The tool named exactly ``name``, else an MCP tool of that name: ``mcp__server__name``
    (Claude Code, Codex), ``server__name`` (Gemini CLI), ``server_name`` (opencode)."""
    found = _match_name([t.name for t in tools], name)
    return next((t for t in tools if t.name == found), None)


def _match_name(names: Sequence[str], name: str) -> str | None:
    for suffix in ("", "__", "_"):
        for candidate in names:
            if candidate == name if not suffix else candidate.endswith(suffix + name):
                return candidate
    return None


def shell_arguments(tool: OfferedTool, command: str) -> dict[str, Any]:
    """The input that runs ``command``, following the tool's schema."""
    properties = _properties(tool.schema)
    if "cmd" in properties:
        key = "cmd"
    elif "command" in properties or not properties:
        key = "command"
    else:
        key = next((k for k in _required(tool.schema) if _is_string(properties.get(k))), "command")
    value: Any = command
    if _type_of(properties.get(key)) == "array":
        value = ["bash", "-lc", command]
    arguments = {key: value}
    if "description" in _required(tool.schema):
        arguments["description"] = f"Run {command[:60]}"
    return arguments


def _first_shell(tools: Sequence[OfferedTool]) -> OfferedTool | None:
    by_name = {t.name: t for t in tools}
    for name in SHELL_TOOLS:
        if name in by_name:
            return by_name[name]
    return None


def _properties(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    value = schema.get("properties")
    return value if isinstance(value, Mapping) else {}


def _required(schema: Mapping[str, Any]) -> list[str]:
    value = schema.get("required")
    return [str(v) for v in value] if isinstance(value, list) else []


def _type_of(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return ""
    kind = schema.get("type")
    if isinstance(kind, list):
        return "array" if "array" in kind else str(kind[0]) if kind else ""
    return str(kind or "").lower()


def _is_string(schema: Any) -> bool:
    return _type_of(schema) == "string"


def _names(tools: Sequence[OfferedTool]) -> str:
    names = [t.name for t in tools]
    shown = ", ".join(names[:30]) + (f" (+{len(names) - 30} more)" if len(names) > 30 else "")
    return f"[{shown}]" if names else "(none)"
