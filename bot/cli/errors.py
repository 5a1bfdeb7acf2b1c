"""How the ``swarm`` command ends on an error it does not print (the error texts are
:func:`bot.errors.describe`'s, shared with the dashboard)."""

from __future__ import annotations

import os
import sys


def quiet_broken_pipe() -> int:
    """The reader of stdout went away (``swarm ... | head``): stop quietly, status 141
    like a process ended by SIGPIPE; stdout now points at /dev/null so the interpreter's
    last flush cannot fail either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141
