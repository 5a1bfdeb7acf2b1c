"""``python -m localgithub --port N --root DIR``: run the server until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
from pathlib import Path

from localgithub.model import PERMISSIONS
from localgithub.server import LocalGitHub


def _user_spec(text: str) -> tuple[str, str]:
    login, _, permission = text.partition(":")
    permission = permission or "write"
    if not login or permission not in PERMISSIONS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected LOGIN or LOGIN:PERMISSION with a permission in "
            + ", ".join(PERMISSIONS)
        )
    return login, permission


def _repo_spec(text: str) -> str:
    owner, _, name = text.partition("/")
    if not owner or not name or "/" in name or name.endswith(".git"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected OWNER/NAME")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localgithub",
        description="A local GitHub REST API (at /api/v3) with git repositories over smart HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--root",
        type=Path,
        help="directory for the bare repositories (default: a temporary one, removed on exit)",
    )
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        type=_repo_spec,
        metavar="OWNER/NAME",
        help="create a repository (one commit with a README); repeatable",
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        type=_user_spec,
        metavar="LOGIN[:PERMISSION]",
        help="add a user (permission none|read|write|admin, default write); repeatable. "
        "Its made-up token is printed: pass it as 'Authorization: Bearer <token>'",
    )
    return parser


async def _serve(args: argparse.Namespace, root: Path) -> None:
    async with LocalGitHub(root, host=args.host, port=args.port) as gh:
        for name in args.repo:
            gh.create_repo(name)
        print(f"localgithub: API {gh.api_url}  git {gh.url}/OWNER/NAME.git", flush=True)
        for login, permission in args.user:
            token = gh.add_user(login, permission)
            print(f"user {login}: token {token}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Run the server until Ctrl-C."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.ExitStack() as stack:
        root = args.root or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        try:
            asyncio.run(_serve(args, root))
        except KeyboardInterrupt:
            pass
        except (ValueError, OSError) as exc:
            parser.exit(1, f"localgithub: {exc}\n")


if __name__ == "__main__":
    main()
