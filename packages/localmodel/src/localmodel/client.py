"""A small synchronous client of the admin endpoints, for a server in another process."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from typing import Any

from localmodel.admin import PREFIX
from localmodel.script import Script, Step


class AdminError(RuntimeError):
    """The admin endpoint refused a request (its one-line reason)."""


class AdminClient:
    """``AdminClient("http://127.0.0.1:PORT")``: read requests, set the script, queue steps."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The recorded requests after sequence number ``since``."""
        answer = self._call("GET", f"/requests?since={since}")
        return list(answer["requests"])

    def usage(self, since: int = 0) -> dict[str, Any]:
        """The usage the answers to the requests after ``since`` reported: ``total``,
        ``models`` (by model) and ``requests`` (each one)."""
        return dict(self._call("GET", f"/usage?since={since}"))

    def clear(self) -> int:
        """Forget the recorded requests; how many there were."""
        return int(self._call("DELETE", "/requests")["cleared"])

    def set_script(self, script: Script | dict[str, Any]) -> None:
        """Replace the script."""
        data = script.to_json() if isinstance(script, Script) else script
        self._call("PUT", "/script", data)

    def script(self) -> dict[str, Any]:
        """The script in force (its JSON form)."""
        return dict(self._call("GET", "/script"))

    def queue(self, *steps: Step | dict[str, Any]) -> int:
        """Queue steps for the next requests; how many are pending."""
        data = [s.to_json() if isinstance(s, Step) else s for s in steps]
        return int(self._call("POST", "/queue", {"steps": data})["pending"])

    def release(self) -> int:
        """End the stalls under way; how many there were."""
        return int(self._call("POST", "/release")["released"])

    def status(self) -> dict[str, Any]:
        """Requests, pending steps, stalls, turns."""
        return dict(self._call("GET", "/"))

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + PREFIX + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError, KeyError, TypeError):
                detail = json.loads(detail)["error"]
            raise AdminError(f"{method} {path}: HTTP {exc.code}: {detail}") from exc
