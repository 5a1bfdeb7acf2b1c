"""The protocol host's program (``automation.protocol.program``), started by ``swarm desktop up
--protocol`` through ``automation.protocol.launch``: its composition root. It reads the
arguments and the environment once; the agent CLI gets that environment whole (its model's base
URL and key, ``SWARM_AGENT``, ``SWARM_HOME``...)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from automation.protocol.program import parse, run


def main(argv: Sequence[str] | None = None) -> int:
    """Run one agent's host until it is stopped; its exit code."""
    args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return asyncio.run(run(args, dict(os.environ)))


if __name__ == "__main__":
    raise SystemExit(main())
