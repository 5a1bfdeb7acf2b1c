"""What of the person's environment enters an agent's sandbox: nothing but an allow-list.

The sandbox starts from an empty environment plus the names :func:`kept` gives: the
terminal's and locale's, the agent CLI's own variables (its credentials and its families,
``AgentCli.env_names``) and the names the agents file's ``sandbox_env`` lists; swarm sets
``SWARM_AGENT`` inside itself. swarm's own tokens and settings (:data:`NEVER`) never enter,
whatever a CLI's family or the agents file says. The filter runs outside, just before
``bwrap`` (:func:`filter_argv`: ``keep_env.py``): it reads the names and the values from its
own environment and hands the kept ones on, so no value is ever written on a command line.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.sandbox import NEVER, never_inside

# a terminal's, its locale's, where its CLI keeps its files, a proxy to reach its model
BASE = (
    "HOME", "PATH", "TERM", "COLORTERM", "TERM_PROGRAM", "LANG", "LANGUAGE", "LC_*", "TZ",
    "USER", "LOGNAME", "NO_COLOR", "FORCE_COLOR", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
    "XDG_CACHE_HOME", "XDG_STATE_HOME", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy",
    "https_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS",
)  # fmt: skip
# run by swarm's Python (``-I -S``) just before bwrap: the environment's kept names only
FILTER = str(Path(__file__).with_name("_keep_env.py"))  # no newline nor quote: tmux reads it


def kept(cli_names: Iterable[str], asked: Sequence[str]) -> tuple[str, ...]:
    """The names and patterns that enter: ``BASE``, the CLI's, the agents file's."""
    return tuple(dict.fromkeys([*BASE, *cli_names, *asked]))


def allowed(name: str, keep: Sequence[str]) -> bool:
    """Whether ``name`` enters with ``keep`` (what :data:`FILTER` decides, in Python)."""
    return any(fnmatch.fnmatchcase(name, p) for p in keep) and not never_inside(name)


def filter_argv(
    python: str,
    keep: Sequence[str],
    command: Sequence[str],
    join: Sequence[str] = (),
    ignore_int: bool = False,
) -> list[str]:
    """``command`` started with only the ``keep`` names of the environment (swarm's own
    never: ``NEVER``), in the control groups whose ``cgroup.procs`` files ``join`` names
    (:mod:`._limits`: it exits saying why when it cannot join one), ignoring SIGINT when
    ``ignore_int`` (a terminal's Ctrl+C); ``python``: swarm's interpreter, run isolated."""
    groups, sigint = json.dumps(list(join)), "ignore" if ignore_int else "-"
    return [python, "-I", "-S", FILTER, ",".join(keep), ",".join(NEVER), groups, sigint, *command]
