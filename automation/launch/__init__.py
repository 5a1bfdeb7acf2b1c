"""An agent's start, one seam: what every route does to start, stop and tell the state of
its agents (:class:`Launcher`, implemented by the desktop's windows, the tmux route's
sessions and the protocol route's hosts), and what starting an agent needs outside the
routes: its launch as the ``[desktop]`` section gives it, its tmux session
(:class:`TerminalSessions`), the sandbox and its door (:mod:`.sandbox`), the model gateway
and egress proxy (:mod:`.gateway`), what goes into a workspace before its CLI reads it
(:mod:`.hooks`), and ``desktop up`` and ``down`` themselves (:mod:`.up`).

Its modules are private (``_seam.py``...): what others use is named here."""

from typing import TYPE_CHECKING

from core.faces import lazy_face

if TYPE_CHECKING:
    from automation.launch import _hooks as hooks
    from automation.launch import _up as up
    from automation.launch._config import (
        PROFILE_NAME,
        DesktopConfig,
        Launch,
        default_resume,
        fill,
        launch_env,
        load_desktop,
        parse_desktop,
        parse_layout,
    )
    from automation.launch._first_start import settle
    from automation.launch._hooks import MCP_SAID, SAID, Reach, mcp_server
    from automation.launch._seam import (
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
        stopped,
        swarm_env,
    )
    from automation.launch._terminal import TerminalSessions
else:
    __getattr__, __dir__ = lazy_face(__name__, __file__)

__all__ = [
    "MCP_SAID",
    "NO_CELL",
    "PROFILE_NAME",
    "SAID",
    "AgentStatus",
    "Cell",
    "DesktopConfig",
    "Fleet",
    "Launch",
    "Launcher",
    "Outcome",
    "Planned",
    "Reach",
    "TerminalSessions",
    "agent_cli",
    "cli_dir_value",
    "cli_env",
    "default_resume",
    "fill",
    "hooks",
    "launch_env",
    "load_desktop",
    "mcp_server",
    "parse_desktop",
    "parse_layout",
    "planned",
    "settle",
    "stopped",
    "swarm_env",
    "up",
]
