"""The environment's filter before ``bwrap`` (:mod:`.environment`), run by swarm's
Python isolated (``-I -S``: the standard library only, nothing of the working folder):

    keep_env.py KEEP NEVER GROUPS INT COMMAND...

``KEEP`` and ``NEVER``: ``fnmatch`` patterns, comma-separated; the raw environment's names
matching one of ``KEEP`` and none of ``NEVER`` are handed on, no value is ever on a command
line. ``GROUPS``: a JSON list of control groups' ``cgroup.procs`` files this process joins
first (:mod:`._limits`), exiting with one line when it cannot. ``INT``: ``ignore`` when
``COMMAND`` (``bwrap``, in a terminal) must not end at the terminal's Ctrl+C, which is its
agent's to take (the command inside gets it back: ``_binds.DEFAULT_INT``), else ``-``. Then
``COMMAND`` replaces it.
"""

import fnmatch
import json
import os
import posix
import signal
import sys


def _matches(name: bytes, patterns: list[bytes]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns if p)


def main(argv: list[str]) -> None:
    """Join the groups, keep the names, run the command."""
    keep, never = argv[1].encode().split(b","), argv[2].encode().split(b",")
    for procs in json.loads(argv[3]):
        try:
            with open(procs, "w", encoding="ascii") as group:
                group.write(str(os.getpid()))
        except OSError as exc:
            sys.exit(f"swarm: the sandbox's limits could not be applied: {procs}: {exc}")
    env = {n: v for n, v in posix.environ.items() if _matches(n, keep) and not _matches(n, never)}
    if argv[4] == "ignore":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.execve(argv[5], argv[5:], env)


if __name__ == "__main__":
    main(sys.argv)
