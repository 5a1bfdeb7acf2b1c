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
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

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
    await each_cli(args.cli or CLIS, lambda cli, root: one_cli(cli, root, args.prompts), args.json)


async def one_cli(cli: str, root: Path, prompts: int) -> dict[str, Any]:
    """``cli`` in tmux under ``root``, ``prompts`` prompts by swarm's tmux deliverer: the tally."""
    live = launch(cli, root, SCRIPT)
    (root / "swarm").mkdir()
    try:
        tally = await count_deliveries(live, cli, prompts, root / "swarm")
    finally:
        stop(live)
    return tally.summary()


async def each_cli(
    names: Sequence[str],
    run: Callable[[str, Path], Awaitable[dict[str, Any]]],
    as_json: bool,
) -> None:
    """``run(cli, folder)`` for each CLI, each in its own folder of a temporary one; each
    CLI's figures printed as one JSON line when it ends (``as_json``: one list at the end)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="swarm-real-delivery-") as tmp:
        for cli in names:
            results.append(await run(cli, Path(tmp) / cli))
            if not as_json:
                print(json.dumps(results[-1]), flush=True)
    if as_json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
