"""The text an agent sees: who sends it, about which task, and how to report back."""

from __future__ import annotations

from pathlib import Path

from core.models import Priority, task_ref
from core.settings import swarm_command


def render(
    text: str,
    *,
    sender: str,
    agent: str,
    task_id: int | None = None,
    priority: Priority = Priority.normal,
    is_retry: bool = False,
    workspace: tuple[str, str | None] | None = None,
    handoff: str | None = None,
    home: Path | None = None,
    note: bool = False,
    withdrawn: bool = False,
    mcp: bool = False,
    from_agent: str | None = None,
    commands: bool = True,
    program: str = "swarm",
) -> str:
    """Wrap ``text`` in the swarm envelope; ``workspace``: the folder and branch to work in;
    ``handoff``: what the previous agent left, when the task comes from another one;
    ``home``: the SWARM_HOME the report commands must name (None: the default); ``note``:
    a message about the task, not its prompt (an answer, a nudge): the head line and the
    text only; ``withdrawn``: the task is taken back from the agent (no report commands:
    not a task); ``mcp``: the agent has swarm's MCP tools (``mcp = true`` in the agents file):
    the report line names the tools, the shell commands only as the fallback; ``from_agent``:
    the text is that agent's words (a message it sent), quoted line by line
    (:func:`agent_words`); ``commands``: False when the prompt already lists the report
    commands (the onboarding heading it): the shell commands are not said twice;
    ``program``: how the agent's shell runs swarm (``Settings.agent_swarm``)."""
    if withdrawn and task_id is not None:
        head = [withdrawn_head(sender, agent, task_ref(task_id))]
        task_id = None
    else:
        head = [f"[swarm] from {sender} to {agent}"]
        if task_id is not None:
            head.append(f"{'about' if note else 'task'} {task_ref(task_id)}")
        head.append(f"priority {priority.name}")
    if is_retry:
        head.append("RETRY (this may repeat an earlier message)")
    body = agent_words(from_agent, text) if from_agent else text.rstrip()
    lines = [" | ".join(head), "", body]
    if note:
        return "\n".join(lines)
    if handoff:
        lines += ["", handoff.rstrip()]
    if workspace is not None:
        folder, branch = workspace
        on = f" on branch {branch}" if branch else ""
        lines += ["", f"Work in {folder}{on}: commit your changes there."]
    if task_id is not None and mcp:
        lines += ["", mcp_report_line(task_ref(task_id), swarm_command(home, program))]
    elif task_id is not None and commands:
        lines += ["", report_line(task_ref(task_id), swarm_command(home, program))]
    return "\n".join(lines)


def report_line(ref: str, swarm: str) -> str:
    """The report commands, once: ``swarm`` (with ``SWARM_HOME=`` for a custom home: a
    terminal the user opened has no SWARM_HOME of swarm's) is written one time."""
    return (
        f"Report back from your terminal: {swarm} task start|note|done|fail {ref} (start "
        f'when you begin; note {ref} "progress so far", kept for whoever takes over; '
        f'done {ref} --note "what you did"; fail {ref} --reason "why")'
    )


def withdrawn_head(sender: str, agent: str, ref: str) -> str:
    """A withdrawal's header: it begins otherwise than a task's (``[swarm] from``), has no
    ``task T-n`` and no priority, so neither an agent nor a script reading ``task T-n`` can
    take it for an assignment."""
    return f"[swarm] WITHDRAWN from {sender} to {agent} | {ref} is no longer yours (not a new task)"


def agent_words(agent: str, text: str) -> str:
    """An agent's message with every line quoted by ``> `` (lines split at every kind of
    line break, U+2028 too): no line of it can begin as swarm's header (``[swarm] from ...``)
    or as anything else of swarm's, whatever the agent wrote."""
    quoted = "\n".join(f"> {line}".rstrip() for line in text.rstrip().splitlines() or [""])
    return (
        f"Message from {agent}, an agent, quoted (every line of it starts with >; "
        f"it is {agent}'s text, not swarm's or a person's):\n{quoted}"
    )


def mcp_report_line(ref: str, swarm: str) -> str:
    """The report line of an agent with swarm's MCP tools (the shell only if they fail)."""
    return (
        f"Report back with the swarm MCP tools: report (start when you begin, note, done, "
        f"fail) on {ref}, handoff_note, ask_human, message, reserve (files before you change "
        f"them); my_task shows the task again. "
        f"If the tools are unavailable: {swarm} task start|note|done|fail {ref}"
    )
