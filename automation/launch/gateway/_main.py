"""The gateway process: the model gateway and the egress proxy for the agents of a spec
file, outliving ``swarm run`` (started in its own session, as a protocol host is). The keys
come from this process's environment, never from the spec. Records go to the spec's
``records`` folder as JSON lines (``usage.jsonl``, ``refusals.jsonl``).

``python -I -m automation.launch.gateway --spec FILE [--pid-file FILE]``: once every socket
listens it prints ``{"ready": true, "pid": PID}`` on one line; SIGTERM ends it. The spec
file's allow-lists are read again when it changes (a change elsewhere needs a restart).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from automation.launch.gateway._model import ModelGateway
from automation.launch.gateway._proxy import EgressProxy
from automation.launch.gateway._records import JsonLinesSink
from automation.launch.gateway._sockets import SocketPathError
from automation.launch.gateway._spec import LiveAllow, Spec, SpecError, read_spec
from core.privacy import files
from core.processes import started

log = logging.getLogger(__name__)
MODULE = "automation.launch.gateway"  # in the process's command line
USAGE_FILE = "usage.jsonl"
REFUSALS_FILE = "refusals.jsonl"


@contextlib.asynccontextmanager
async def running(
    spec: Spec, env: Mapping[str, str], spec_file: Path | None = None
) -> AsyncIterator[None]:
    """The gateway and the proxy of ``spec`` listening, their records in its folder; with
    ``spec_file``, its allow-lists as that file says at each request (``LiveAllow``)."""
    files.make_dirs(spec.records)
    usage, refusals = (
        JsonLinesSink(spec.records, USAGE_FILE),
        JsonLinesSink(spec.records, REFUSALS_FILE),
    )
    for agent, entry in spec.models.items():
        if entry.key_env and not env.get(entry.key_env):
            log.warning("%s: %s is not set: its requests go upstream without a key",
                        agent, entry.key_env)  # fmt: skip
    gateway = ModelGateway(spec.model_routes(env), usage)
    live = LiveAllow(spec_file, spec) if spec_file is not None else (lambda: None)
    proxy = EgressProxy(spec.egress_routes(), refusals, allow_now=live)
    try:
        await gateway.start()
        await proxy.start()
        yield
    finally:
        await proxy.close()
        await gateway.close()
        usage.close()
        refusals.close()


async def _serve(spec: Spec, spec_file: Path, pid_file: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running(spec, os.environ, spec_file):
        if pid_file is not None:
            files.write_file(pid_file, f"{os.getpid()} {started(os.getpid())}".encode())
        print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
        log.info("gateway: %d model routes, %d egress routes", len(spec.models), len(spec.egress))
        await stop.wait()
    if pid_file is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(pid_file)


def main(argv: list[str] | None = None) -> int:
    """The gateway process's command line: 0 when it ended on a signal, 2 for a bad spec or
    a socket it could not bind (one line on standard error)."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__)
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--pid-file", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        asyncio.run(_serve(read_spec(args.spec), args.spec, args.pid_file))
    except (SpecError, SocketPathError, OSError) as exc:
        print(f"swarm gateway: {exc}", file=sys.stderr)
        return 2
    return 0
