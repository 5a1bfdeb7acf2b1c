"""``localmodel --port 0 --script FILE``: serve a script until interrupted; prints the URL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from localmodel.script import Script, ScriptError, load_script
from localmodel.server import LocalModel


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localmodel",
        description="A scripted model server: Anthropic Messages, OpenAI Responses and Chat "
        "Completions, Gemini generateContent. Prints its URL, then serves until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--script", type=Path, help="the script, JSON or TOML (.toml)")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="a model name GET /v1/models lists; repeatable (default: local)",
    )
    parser.add_argument(
        "--record", type=Path, metavar="FILE", help="also append every request to FILE (JSON lines)"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log each request")
    return parser


async def _serve(args: argparse.Namespace, script: Script) -> None:
    models = tuple(args.model) or ("local",)
    async with LocalModel(
        script, host=args.host, port=args.port, models=models, record_to=args.record
    ) as model:
        print(model.url, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Run the server until SIGTERM or Ctrl-C."""
    parser = _parser()
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        script = load_script(args.script) if args.script else Script()
    except ScriptError as exc:
        parser.exit(2, f"localmodel: {exc}\n")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args, script))
    except OSError as exc:
        parser.exit(1, f"localmodel: {exc}\n")


if __name__ == "__main__":
    main()
