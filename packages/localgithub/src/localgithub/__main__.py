"""``python -m localgithub --port N --root DIR``: run the server until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
from pathlib import Path

from localgithub.server import LocalGitHub


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localgithub",
        description="A local GitHub REST API (at /api/v3) with git repositories over smart HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--root", type=Path, help="directory for the bare repositories")
    parser.add_argument(
        "--repo", action="append", default=[], metavar="OWNER/NAME", help="create a repository"
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="LOGIN[:PERMISSION]",
        help="add a user (permission read|write|admin, default write); its token is printed",
    )
    return parser


async def _serve(args: argparse.Namespace, root: Path) -> None:
    async with LocalGitHub(root, host=args.host, port=args.port) as gh:
        for name in args.repo:
            gh.create_repo(name)
        print(f"localgithub: API {gh.api_url}  git {gh.url}/OWNER/NAME.git", flush=True)
        for spec in args.user:
            login, _, permission = spec.partition(":")
            token = gh.add_user(login, permission or "write")
            print(f"user {login}: token {token}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Run the server until Ctrl-C."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.ExitStack() as stack:
        root = args.root or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args, root))


if __name__ == "__main__":
    main()
