"""Discord's JSON error shape, raised by route handlers and rendered by a middleware."""

from __future__ import annotations

from typing import Any

UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
UNKNOWN_USER = 10013
UNKNOWN_APPLICATION_COMMAND = 10063
UNKNOWN_INTERACTION = 10062
UNAUTHORIZED = 40001
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
ALREADY_ACKNOWLEDGED = 40060
EMPTY_MESSAGE = 50006
INVALID_FORM_BODY = 50035


class ApiError(Exception):
    """An HTTP error answered in Discord's shape: ``{"code", "message", "errors"?}``."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def payload(self) -> dict[str, Any]:
        """The JSON body Discord would send."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def not_found(code: int, what: str) -> ApiError:
    """A 404 such as ``Unknown Message``."""
    return ApiError(404, code, f"Unknown {what}")


def invalid_form(problems: dict[str, str]) -> ApiError:
    """A 400 ``Invalid Form Body`` with one error per dotted field path."""
    errors: dict[str, Any] = {}
    for path, message in problems.items():
        node = errors
        for part in path.split("."):
            node = node.setdefault(part, {})
        node["_errors"] = [{"code": "BASE_TYPE_INVALID", "message": message}]
    return ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", errors)
