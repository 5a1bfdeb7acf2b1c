"""What a protocol host's import of the ACP SDK costs: the SDK imported as it is against the
host's way (``automation.protocol.acp_import.load``: its models built without reading their
fields' docstrings), each a new process as a host's start is.

Run: ``.venv/bin/python bench/host_start.py [--rounds 10]``. The two ways alternate round by
round; prints each way's CPU (user + system, from ``wait4``) and wall time p50 / max, and the
host's way as a ratio of the SDK's own in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST_WAY = (
    "from automation.protocol import acp_import; acp_import.load(); "
    "import automation.protocol.acp_driver"
)
WAYS = {"the SDK as it is": "import automation.protocol.acp_driver", "the host's way": HOST_WAY}


def run(python: str, code: str) -> tuple[float, float] | None:
    """(CPU, wall) seconds of one ``PYTHON -c CODE`` in the checkout, from start to exit
    (CPU: user + system, from ``wait4``); None when it failed."""
    started = time.monotonic()
    process = subprocess.Popen(
        [python, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    return usage.ru_utime + usage.ru_stime, wall


def one(code: str) -> tuple[float, float]:
    """``run`` with this Python; a failure ends the bench."""
    took = run(sys.executable, code)
    if took is None:
        raise SystemExit(f"bench: {code!r} failed")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    for _ in range(args.rounds):
        for way, code in WAYS.items():
            runs[way].append(one(code))
    median = {}
    for way, samples in runs.items():
        cpu = [s[0] for s in samples]
        wall = [s[1] for s in samples]
        median[way] = statistics.median(cpu), statistics.median(wall)
        print(f"{way:18} CPU p50 {median[way][0]:.2f} s, max {max(cpu):.2f} s; "
              f"wall p50 {median[way][1]:.2f} s, max {max(wall):.2f} s")  # fmt: skip
    sdk, host = median["the SDK as it is"], median["the host's way"]
    print(f"the host's way / the SDK's: CPU {host[0] / sdk[0]:.2f}, wall {host[1] / sdk[1]:.2f} "
          f"({args.rounds} rounds)")  # fmt: skip


if __name__ == "__main__":
    main()
