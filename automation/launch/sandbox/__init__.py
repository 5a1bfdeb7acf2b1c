"""An agent's sandbox, whole: what ``desktop up`` builds and starts outside so that an agent's
CLI runs under bubblewrap (``sandbox = true``) and reaches swarm only through its door.

- :mod:`._wrap`: a command wrapped (its door opened, its state, limits and environment made);
  the editors a sandbox cannot hold; the doors closed; hooks and commit checks rewritten to
  go through the door.
- :mod:`._binds`: what the sandbox shows (the binds, the git folders' guards, the programs)
  and the pure ``bwrap`` command line.
- :mod:`._environment` and :mod:`._keep_env`: the environment's allow-list, applied outside.
- :mod:`._state`: the agent's own copies of its CLI's state. :mod:`._limits`: its control
  groups.
- :mod:`._door` and :mod:`._door_client`: the door (a socket that speaks for that agent alone)
  and the ``swarm`` bound inside.

What the rest of swarm knows of a sandbox (the door's paths, the git folders a ``.git`` may
name, the variables that never enter) is ``core.sandbox``.
"""

from typing import TYPE_CHECKING

from core.faces import lazy_face

if TYPE_CHECKING:
    from automation.launch.sandbox import _limits as limits
    from automation.launch.sandbox._binds import (
        bwrap_path,
        check_git_links,
        describe,
        missing_line,
    )
    from automation.launch.sandbox._network import Gateways, gateway_command, sync_allow
    from automation.launch.sandbox._network import check as network_check
    from automation.launch.sandbox._network import line as network_line
    from automation.launch.sandbox._network import mode_of as network_mode
    from automation.launch.sandbox._network import refresh as refresh_gateway
    from automation.launch.sandbox._network import refused as refused_hosts
    from automation.launch.sandbox._network import revive as revive_gateway
    from automation.launch.sandbox._network import running as gateway_running
    from automation.launch.sandbox._network import unsandboxed as gateway_network
    from automation.launch.sandbox._state import agent_home
    from automation.launch.sandbox._wrap import (
        EDITOR_REFUSED,
        EDITOR_UNSANDBOXED,
        close_doors,
        commit_checks_through_door,
        door_hook_command,
        door_pid,
        editor_lines,
        require_bwrap,
        stale_commit_checks,
        stale_hooks,
        state_folder,
        wrap,
        wrap_line,
    )
else:
    __getattr__, __dir__ = lazy_face(__name__, __file__)

__all__ = [
    "EDITOR_REFUSED",
    "EDITOR_UNSANDBOXED",
    "Gateways",
    "agent_home",
    "bwrap_path",
    "check_git_links",
    "close_doors",
    "commit_checks_through_door",
    "describe",
    "door_hook_command",
    "door_pid",
    "editor_lines",
    "gateway_command",
    "gateway_network",
    "gateway_running",
    "limits",
    "missing_line",
    "network_check",
    "network_line",
    "network_mode",
    "refresh_gateway",
    "refused_hosts",
    "require_bwrap",
    "revive_gateway",
    "stale_commit_checks",
    "stale_hooks",
    "state_folder",
    "sync_allow",
    "wrap",
    "wrap_line",
]
