"""Every request the server received, as the client sent it, with its secrets withheld."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict

from localmodel.usage import Usage

SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "proxy-authorization"}
)
SECRET_QUERY = frozenset({"key", "api_key", "access_token"})
REDACTED = "[redacted]"


@dataclass
class RecordedRequest:
    """One request: method, path, query and headers (secrets redacted), its JSON body.

    ``api`` is the wire format it spoke (anthropic, responses, chat, gemini; None for others),
    ``prompt`` the latest user prompt the script matched, ``outcome`` what it got (the step and
    how it was chosen), ``status`` the HTTP status answered, ``model`` the model it asked for,
    ``usage`` the tokens its answer reported (None: none reported; see :mod:`localmodel.usage`).
    """

    seq: int
    at: float
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    body: Any
    api: str | None = None
    prompt: str | None = None
    text: str = ""
    outcome: str = ""
    status: int = 0
    model: str | None = None
    usage: Usage | None = None
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def messages(self) -> list[Any]:
        """The conversation: ``messages`` (Anthropic, Chat), ``input`` or ``contents``."""
        if not isinstance(self.body, Mapping):
            return []
        for key in ("messages", "input", "contents"):
            value = self.body.get(key)
            if isinstance(value, list):
                return list(value)
            if isinstance(value, str):
                return [{"role": "user", "content": value}]
        return []

    def sent_secret(self, header: str, value: str) -> bool:
        """Whether the request carried exactly ``value`` in the secret ``header`` (``?key``: a
        query parameter)."""
        digest = self.secrets.get(header.lower())
        return digest is not None and hmac.compare_digest(digest, secret_digest(value))

    def to_json(self) -> dict[str, Any]:
        """The admin endpoint's form."""
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": dict(self.headers),
            "body": self.body,
            "api": self.api,
            "prompt": self.prompt,
            "outcome": self.outcome,
            "status": self.status,
            "model": self.model,
            "usage": self.usage.to_json() if self.usage is not None else None,
        }


def redacted_headers(headers: Mapping[str, str]) -> tuple[CIMultiDict[str], dict[str, str]]:
    """The headers (case-insensitive) with secret values replaced, and their digests."""
    shown: CIMultiDict[str] = CIMultiDict()
    digests: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            shown.add(name, REDACTED)
            digests[name.lower()] = secret_digest(value)
        else:
            shown.add(name, value)
    return shown, digests


def redacted_query(query: Mapping[str, str]) -> dict[str, str]:
    """The query parameters with keys and tokens replaced."""
    return {k: REDACTED if k.lower() in SECRET_QUERY else v for k, v in query.items()}


def secret_digest(value: str) -> str:
    """The SHA-256 of a secret (what a record keeps of it)."""
    return hashlib.sha256(value.encode()).hexdigest()
