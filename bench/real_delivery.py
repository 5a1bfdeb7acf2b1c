"""Delivery into the real agent CLIs through swarm's tmux deliverer, counted.

Run: ``.venv/bin/python bench/real_delivery.py [--cli gemini ...] [--prompts 200] [--json]``.
Each pinned CLI (tests/agents/launch.py: its own HOME, against ``python -m localmodel``) runs
in a private tmux pane; swarm's ``TmuxDeliverer`` delivers ``--prompts`` prompts to it one
after another, as the scheduler would. The prompts vary: one line, several lines, tabs,
quotes and ``;``, 2 KB. What is counted (taken, whole, lost, falsely delivered, doubled,
turn start p50/p99) is said in tests/agents/deliveries.py. All counts but taken and whole
must be 0. The turn's model time is not in the figures (the script answers at once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from tests.agents.deliveries import count_deliveries  # noqa: E402
from tests.agents.launch import CLIS, launch, stop  # noqa: E402

SCRIPT = 'default = [{ text = "localmodel default answer" }]\n'


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", action="append", choices=CLIS, help="default: all five")
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="swarm-real-delivery-") as tmp:
        for cli in args.cli or CLIS:
            live = launch(cli, Path(tmp) / cli, SCRIPT)
            (Path(tmp) / f"{cli}-swarm").mkdir()
            try:
                tally = await count_deliveries(live, cli, args.prompts, Path(tmp) / f"{cli}-swarm")
            finally:
                stop(live)
            results.append(tally.summary())
            if not args.json:
                print(json.dumps(results[-1]), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
