"""An agent's start, one seam: what every route does to start, stop and tell the state of
its agents (:class:`Launcher`, implemented by the desktop's windows, the tmux route's
sessions and the protocol route's hosts), and what starting an agent needs outside the
routes: its launch as the ``[desktop]`` section gives it (:mod:`.config`), its tmux session
(:class:`TerminalSessions`), its sandbox and door (:mod:`.sandbox`), the hooks installed
before its CLI reads them (:mod:`.hooks`), and ``desktop up`` itself (:mod:`.up`)."""

from automation.launch.seam import (
    NO_CELL,
    AgentStatus,
    Cell,
    Fleet,
    Launcher,
    Outcome,
    Planned,
    agent_cli,
    cli_dir_value,
    cli_env,
    planned,
    swarm_env,
)
from automation.launch.terminal import TerminalSessions

__all__ = [
    "NO_CELL",
    "AgentStatus",
    "Cell",
    "Fleet",
    "Launcher",
    "Outcome",
    "Planned",
    "TerminalSessions",
    "agent_cli",
    "cli_dir_value",
    "cli_env",
    "planned",
    "swarm_env",
]
