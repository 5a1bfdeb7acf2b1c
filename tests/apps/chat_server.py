"""A local chat web app like Cursor's composer, for driving real Chromium windows in tests.

``GET /agent/<name>`` serves a chat page: the message history on top and, anchored at the
bottom, a ``<textarea>`` that grows upwards with its text (up to ``max_height`` pixels, then
it scrolls). Enter (without Shift) POSTs the textarea's value to ``/msg/<name>`` as
``{"text": ...}`` and clears it; Shift+Enter adds a line (the textarea's own behaviour). The
page sends whatever the composer holds, even nothing, so a stray Enter shows up in
``texts()``. On load the page POSTs its layout to ``/ready/<name>``.
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote, unquote

log = logging.getLogger(__name__)

PAGE = Template((Path(__file__).with_name("chat_page.html")).read_text(encoding="utf-8"))
MAX_HEIGHT = 240
MAX_BODY = 1 << 20


class ChatServer:
    """The chat app's HTTP server on 127.0.0.1 (a free port), run in a background thread."""

    def __init__(self, max_height: int = MAX_HEIGHT) -> None:
        self.max_height = max_height
        self._changed = threading.Condition()
        self._texts: dict[str, list[str]] = {}
        self._layouts: dict[str, dict[str, Any]] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ChatServer:
        """Listen on a free port and serve in a daemon thread; returns ``self``."""
        httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="chat-server",
                                        kwargs={"poll_interval": 0.1}, daemon=True)  # fmt: skip
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._httpd is None:
            raise RuntimeError("the chat server is not started")
        return int(self._httpd.server_address[1])

    def url(self, name: str) -> str:
        """The address of ``name``'s chat page."""
        return f"http://127.0.0.1:{self.port}/agent/{quote(name, safe='')}"

    def texts(self, name: str) -> list[str]:
        """Every text ``name``'s page sent, in order, exactly as typed."""
        with self._changed:
            return list(self._texts.get(name, []))

    def wait_for(self, name: str, count: int, timeout: float = 5.0) -> list[str]:
        """``name``'s texts once there are at least ``count`` (or whatever came by the timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._changed.wait_for(
                lambda: len(self._texts.get(name, [])) >= count,
                max(0.0, deadline - time.monotonic()),
            )
            return list(self._texts.get(name, []))

    def layout(self, name: str, timeout: float = 10.0) -> dict[str, Any]:
        """The layout ``name``'s page reported when it loaded; waits for it, bounded."""
        with self._changed:
            if not self._changed.wait_for(lambda: name in self._layouts, timeout):
                raise TimeoutError(f"the chat page of {name} did not load within {timeout:.0f} s")
            return dict(self._layouts[name])

    def loaded(self, name: str) -> bool:
        """Whether ``name``'s page has reported its layout."""
        with self._changed:
            return name in self._layouts

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5.0)
        self._httpd = self._thread = None

    def page(self, name: str) -> str:
        """The chat page of ``name``."""
        return PAGE.substitute(name=html.escape(name), name_json=json.dumps(name),
                               max_height=self.max_height)  # fmt: skip

    def record(self, kind: str, name: str, payload: dict[str, Any]) -> bool:
        """Store a sent message (``msg``) or a page layout (``ready``); False if unknown."""
        with self._changed:
            if kind == "msg" and isinstance(payload.get("text"), str):
                self._texts.setdefault(name, []).append(payload["text"])
            elif kind == "ready":
                self._layouts[name] = payload
            else:
                return False
            self._changed.notify_all()
        return True


class _QuietServer(ThreadingHTTPServer):
    """Logs a client that went away (a closed browser) instead of printing a traceback."""

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("chat server: request from %s failed", client_address, exc_info=True)


def _handler_for(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_ChatHandler):
        chat = server

    return Handler


class _ChatHandler(BaseHTTPRequestHandler):
    """Serves the pages and takes the pages' POSTs."""

    chat: ChatServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        kind, name = _route(self.path)
        if kind != "agent" or not name:
            self._reply(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        body = self.chat.page(name).encode("utf-8")
        self._reply(HTTPStatus.OK, body, "text/html; charset=utf-8")

    def do_POST(self) -> None:
        kind, name = _route(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if not name or length > MAX_BODY:
            self._reply(HTTPStatus.BAD_REQUEST, b"bad request", "text/plain")
            return
        try:
            payload = json.loads(self.rfile.read(length).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        if not isinstance(payload, dict) or not self.chat.record(kind, name, payload):
            self._reply(HTTPStatus.BAD_REQUEST, b"bad request", "text/plain")
            return
        self._reply(HTTPStatus.OK, b"{}", "application/json")

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("chat server: %s", format % args)


def _route(path: str) -> tuple[str, str]:
    """``/kind/name`` as ``(kind, name)``; empty strings when the path has another shape."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) != 2:
        return "", ""
    return parts[0], unquote(parts[1])
