"""Another swarm's protocol host beside the suite: CI starts one named ``Agent-1`` in a swarm
home of its own (under the user's home, not the checkout) before the tests and ends it after,
as a developer's own ``swarm run`` with protocol agents would run beside them. A test that finds
hosts by name across the machine, or counts or signals processes it did not start, meets it.

    python .ci/foreign_host.py start HOME    # prints the host's pid
    python .ci/foreign_host.py stop HOME
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation.protocol import launch

AGENT = "Agent-1"
SCRIPT = Path(__file__).resolve().parent.parent / "tests" / "agents" / "hostile_acp.py"


async def main(action: str, home: Path) -> int:
    """Start or stop the foreign home's host."""
    if action == "stop":
        await launch.stop(home, AGENT)
        return 0
    work = home / "work"
    work.mkdir(parents=True, exist_ok=True)
    hello = await launch.start(home, AGENT, [sys.executable, str(SCRIPT)], work, dict(os.environ))
    if hello.pid is None:
        print(f"foreign_host: {AGENT}'s host answered without its pid", file=sys.stderr)
        return 1
    print(hello.pid, flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        raise SystemExit("usage: foreign_host.py start|stop HOME")
    raise SystemExit(asyncio.run(main(sys.argv[1], Path(sys.argv[2]))))
