"""Git's smart HTTP protocol: each request runs ``git http-backend`` as a CGI program."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)


def is_push(request: web.Request) -> bool:
    """Whether the request is part of a push (receive-pack)."""
    return request.query.get("service") == "git-receive-pack" or request.path.endswith(
        "/git-receive-pack"
    )


async def run_backend(
    request: web.Request, project_root: Path, path_info: str, remote_user: str | None
) -> web.Response:
    """Run git http-backend for ``path_info`` (``/owner/name.git/info/refs``) and relay it."""
    body = await request.read()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(project_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(project_root),
        "PATH_INFO": path_info,
        "QUERY_STRING": request.query_string,
        "REQUEST_METHOD": request.method,
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": request.remote or "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
    }
    if remote_user:
        env["REMOTE_USER"] = remote_user
    if "Content-Encoding" in request.headers:
        env["HTTP_CONTENT_ENCODING"] = request.headers["Content-Encoding"]
    if "Git-Protocol" in request.headers:
        env["GIT_PROTOCOL"] = request.headers["Git-Protocol"]
    proc = await asyncio.create_subprocess_exec(
        "git",
        "http-backend",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    out, err = await proc.communicate(body)
    if err:
        log.debug("git http-backend: %s", err.decode(errors="replace").strip())
    return _cgi_response(out)


def _cgi_response(out: bytes) -> web.Response:
    head, _, payload = out.partition(b"\r\n\r\n")
    if not _ and b"\n\n" in out:
        head, _, payload = out.partition(b"\n\n")
    status = 200
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, _sep, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers[name.strip()] = value.strip()
    return web.Response(status=status, body=payload, headers=headers)
