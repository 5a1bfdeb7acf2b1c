"""The admin endpoints under ``/_localmodel/`` (a path no model client uses).

``GET /_localmodel/requests[?since=N]`` lists the recorded requests (``DELETE`` forgets them);
``GET /_localmodel/usage[?since=N]`` sums the usage their answers reported (in all, by model,
per request);
``GET``/``PUT /_localmodel/script`` reads or replaces the script (JSON, or TOML with a
``Content-Type`` naming toml); ``POST /_localmodel/queue`` queues steps for the next requests;
``POST /_localmodel/release`` ends the stalls under way; ``GET /_localmodel/`` says how it is.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from localmodel.script import ScriptError, parse_script_text, parse_step

if TYPE_CHECKING:
    from localmodel.server import LocalModel

PREFIX = "/_localmodel"


def register(router: web.UrlDispatcher, model: LocalModel) -> None:
    """Add the admin routes for ``model``."""

    async def status(_request: web.Request) -> web.Response:
        return web.json_response(model.status())

    async def requests(request: web.Request) -> web.Response:
        since = _int(request.query.get("since", "0"))
        if since is None:
            return _refuse("since must be a whole number")
        chosen = [r.to_json() for r in model.requests if r.seq > since]
        return web.json_response({"requests": chosen})

    async def usage(request: web.Request) -> web.Response:
        since = _int(request.query.get("since", "0"))
        if since is None:
            return _refuse("since must be a whole number")
        return web.json_response(model.usage(since))

    async def clear(_request: web.Request) -> web.Response:
        count = len(model.requests)
        model.requests.clear()
        return web.json_response({"cleared": count})

    async def get_script(_request: web.Request) -> web.Response:
        return web.json_response(model.script.to_json())

    async def put_script(request: web.Request) -> web.Response:
        text = await request.text()
        toml = "toml" in request.content_type
        try:
            model.script = parse_script_text(text, toml=toml, source="script")
        except ScriptError as exc:
            return _refuse(str(exc))
        return web.json_response({"turns": len(model.script.turns)})

    async def queue(request: web.Request) -> web.Response:
        try:
            data = json.loads(await request.text())
            raw = data.get("steps") if isinstance(data, dict) else data
            if not isinstance(raw, list):
                raise ScriptError('expected {"steps": [...]} or a list of steps')
            steps = [parse_step(item, f"step {i + 1}") for i, item in enumerate(raw)]
        except (ValueError, ScriptError) as exc:
            return _refuse(str(exc))
        model.queue(*steps)
        return web.json_response({"pending": model.pending})

    async def release(_request: web.Request) -> web.Response:
        return web.json_response({"released": model.release()})

    router.add_get(PREFIX, status)
    router.add_get(PREFIX + "/", status)
    router.add_get(PREFIX + "/requests", requests)
    router.add_delete(PREFIX + "/requests", clear)
    router.add_get(PREFIX + "/usage", usage)
    router.add_get(PREFIX + "/script", get_script)
    router.add_put(PREFIX + "/script", put_script)
    router.add_post(PREFIX + "/queue", queue)
    router.add_post(PREFIX + "/release", release)


def _refuse(message: str) -> web.Response:
    return web.json_response({"error": message.splitlines()[0] if message else "bad"}, status=400)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
