"""Errors in GitHub's shape: ``{"message", "documentation_url"}`` (+ ``errors`` for 422)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error response; raise it from a handler."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        documentation_url: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = headers or {}

    def response(self) -> web.Response:
        """The JSON response GitHub would send."""
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = self.documentation_url
        body["status"] = str(self.status)
        return web.Response(
            status=self.status,
            text=json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )


def not_found() -> ApiError:
    """404 Not Found (also what GitHub answers for a private resource you cannot see)."""
    return ApiError(404, "Not Found")


def validation(resource: str, field: str, code: str, message: str | None = None) -> ApiError:
    """422 Validation Failed with one error entry."""
    error: dict[str, Any] = {"resource": resource, "field": field, "code": code}
    if message is not None:
        error["message"] = message
    return ApiError(422, "Validation Failed", errors=[error])


def forbidden(message: str = "Resource not accessible by personal access token") -> ApiError:
    """403 for a token without the permission the endpoint needs."""
    return ApiError(403, message)
