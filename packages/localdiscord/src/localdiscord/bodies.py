"""Reading request bodies (JSON or multipart with files) and writing Discord-shaped replies."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import BodyPartReader, web

from localdiscord.errors import invalid_form
from localdiscord.messages import UploadedFile

Json = dict[str, Any]
_FILE_FIELD = re.compile(r"^files\[(\d+)\]$|^file(\d*)$")


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON reply with exactly ``Content-Type: application/json`` (discord.py insists)."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


def no_content() -> web.Response:
    """A 204 reply."""
    return web.Response(status=204)


async def read_body(request: web.Request) -> tuple[Json, dict[int, UploadedFile]]:
    """The JSON payload and the uploaded files (by index) of a request."""
    if request.content_type.startswith("multipart/"):
        return await _read_multipart(request)
    if not request.can_read_body:
        return {}, {}
    try:
        payload = await request.json()
    except json.JSONDecodeError as exc:
        raise invalid_form({"_": f"The request body contains invalid JSON: {exc}"}) from None
    return (payload if isinstance(payload, dict) else {"_list": payload}), {}


async def read_json_list(request: web.Request) -> list[Json]:
    """A JSON array body (used by bulk command overwrite)."""
    payload = await request.json()
    if not isinstance(payload, list):
        raise invalid_form({"_": "Expected an array"})
    return payload


async def _read_multipart(request: web.Request) -> tuple[Json, dict[int, UploadedFile]]:
    payload: Json = {}
    files: dict[int, UploadedFile] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        data = await part.read()
        if part.name == "payload_json":
            payload = json.loads(bytes(data).decode())
            continue
        match = _FILE_FIELD.match(part.name or "")
        if match is None:
            continue
        index = int(match.group(1) or match.group(2) or len(files))
        content_type = part.headers.get("Content-Type")
        files[index] = UploadedFile(part.filename or f"file{index}", bytes(data), content_type)
    return payload, files
