"""Where the tests sleep: every ``time.sleep`` and ``asyncio.sleep`` called in a pytest
process (the tests and the product code they run in it), summed by the line that called it.

As a pytest plugin it writes one file per process to ``$SLEEP_PROFILE_DIR`` at the end:

    SLEEP_PROFILE_DIR=/tmp/sleeps PYTEST_ADDOPTS="-p tools.sleep_profile" make test

Run on that folder it prints the calling lines by the seconds asked for (a poll's sleeps
add up there: its interval is what a wait overshoots by, half of it on average):

    python tools/sleep_profile.py /tmp/sleeps [--top 40]

An ``asyncio.sleep`` may overlap other work of its loop; asked-for seconds, not measured
ones. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

_asked: dict[str, float] = collections.defaultdict(float)
_calls: collections.Counter[str] = collections.Counter()


def _caller() -> str:
    frame = sys._getframe(3)  # _counted, the wrapper, its caller
    return f"{frame.f_code.co_filename.removeprefix(os.getcwd() + '/')}:{frame.f_lineno}"


def _counted(seconds: object) -> None:
    where = _caller()
    _calls[where] += 1
    _asked[where] += float(seconds) if isinstance(seconds, int | float) else 0.0


def pytest_configure(config: pytest.Config) -> None:
    """Wrap both sleeps for the whole run (a process of its own: a worker, or the only one)."""
    if not os.environ.get("SLEEP_PROFILE_DIR"):
        return
    plain: Callable[[float], None] = time.sleep
    loops: Callable[..., Coroutine[Any, Any, Any]] = asyncio.sleep

    def sleep(seconds: float) -> None:
        _counted(seconds)
        plain(seconds)

    def async_sleep(delay: float, result: Any = None) -> Coroutine[Any, Any, Any]:
        _counted(delay)
        return loops(delay, result)

    time.sleep = sleep  # type: ignore[assignment]
    asyncio.sleep = async_sleep


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = os.environ.get("SLEEP_PROFILE_DIR")
    if not folder or not _calls:
        return
    out = Path(folder) / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"asked": _asked, "calls": _calls}), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    asked: dict[str, float] = collections.defaultdict(float)
    calls: collections.Counter[str] = collections.Counter()
    for path in sorted(args.folder.glob("*.json")):
        found = json.loads(path.read_text(encoding="utf-8"))
        for where, seconds in found["asked"].items():
            asked[where] += seconds
        calls.update(found["calls"])
    print(f"{sum(asked.values()):.0f} s asked for in {sum(calls.values())} sleeps")
    for where, seconds in sorted(asked.items(), key=lambda i: -i[1])[: args.top]:
        print(f"  {seconds:8.1f} s {calls[where]:7d}  {where}")


if __name__ == "__main__":
    main()
