"""Credentials never leave the process: one function, :func:`redact_urls`, removes them from
any text before it is logged, printed or stored.

It covers every form in which libpq (and so ``SWARM_DATABASE_URL``) takes a password:

* a URL's userinfo, ``scheme://user:password@host`` (the whole ``user:password`` goes);
* a URL's query parameters ``password``, ``sslpassword`` and ``oauth_client_secret``, in any
  position, repeated, with a percent-encoded name (``?pass%77ord=...``: libpq decodes it),
  and the API keys and tokens of other services' URLs (``?api_key=``, ``?key=``, ``?token=``,
  ``?access_token=``, ``?secret=``, ...: ``OPENAI_BASE_URL`` may carry one);
* the same keywords in a ``key=value`` connection string (``host=db password=secret``),
  with spaces around ``=``, a quoted value (``'a b\\' c'``) or backslash escapes.

And tokens in the shapes GitHub issues them (``ghp_...``, ``gho_``, ``ghu_``, ``ghs_``,
``ghr_``, ``github_pat_...``), and the credential of an ``Authorization:`` header (``token
...``, ``Bearer ...``, ``Basic ...``), wherever they are in the text (``GITHUB_TOKEN``).

A ``passfile`` (a path) and ``PGPASSWORD`` (never in the text) are left alone. Redacting
twice gives the same text.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

REDACTED = "[redacted]"
SECRET_KEYS = frozenset({"password", "sslpassword", "oauth_client_secret"})
# Names that hold a credential in a URL's query only (an API's base URL: ``?api_key=...``);
# in free text ``key=value`` is too common a shape to hide.
QUERY_SECRET_KEYS = SECRET_KEYS | {
    "api_key",
    "api-key",
    "apikey",
    "key",
    "token",
    "access_token",
    "secret",
    "client_secret",
}
_KEYS = "|".join(sorted(SECRET_KEYS))
_QUOTES = "'\""


def _encoded(name: str) -> str:
    """A pattern of ``name`` with any of its characters percent-encoded (as libpq decodes)."""
    return "".join(f"(?:{re.escape(c)}|%{ord(c):02x})" for c in name)


_SECRETS = re.compile(
    # scheme://userinfo@: libpq ends the userinfo only at '/' (a space in it is an error it
    # quotes: hidden too); up to the authority's last '@' on the line
    r"(?i)(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<userinfo>[^/\n]*)@"
    # ?name=value or &name=value (the name may be percent-encoded): value up to & or a space
    rf"|(?<=[?&])(?P<qkey>(?i:{'|'.join(_encoded(k) for k in sorted(QUERY_SECRET_KEYS))}))="
    r"(?P<qvalue>\[redacted\]|[^&\s]*)"
    # name = value in a key/value connection string: quoted, or up to an unescaped space
    rf"|(?<![\w%.&?-])(?P<kkey>(?i:{_KEYS}))[ \t]*=[ \t]*"
    r"(?P<kvalue>\[redacted\]|'(?:[^'\\]|\\.)*'?|(?:[^\s\\]|\\.?)+)?"
)


# GitHub's token prefixes (classic, OAuth, user-to-server, server-to-server, refresh,
# fine-grained) and an Authorization header's credential.
_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"
    r"|(?i:(?<=authorization:)[ \t]*(?:token|bearer|basic)[ \t]+)(?!\[redacted\])[^\s\"']+"
)


def redact_urls(text: str) -> str:
    """``text`` with every credential in it (URLs, connection strings, GitHub tokens and
    Authorization headers) replaced by ``[redacted]``."""
    if "gh" in text or "ithub_pat_" in text or "uthorization" in text.lower():
        text = _TOKENS.sub(_replace_token, text)
    if "@" not in text and "=" not in text:
        return text
    return _SECRETS.sub(lambda m: _replace(m, text), text)


def _replace_token(match: re.Match[str]) -> str:
    """A token shape goes whole; a header keeps its scheme (``Bearer [redacted]``)."""
    value = match[0]
    scheme = re.match(r"(?i)[ \t]*(?:token|bearer|basic)[ \t]+", value)
    return f"{scheme[0]}{REDACTED}" if scheme else REDACTED


def secrets_in(text: str) -> list[str]:
    """The credentials :func:`redact_urls` removes from ``text``, as written and decoded."""
    found: list[str] = []
    for match in _SECRETS.finditer(text):
        value = _secret(match, text)
        if value != REDACTED:
            password = value.split(":", 1)[1] if match["userinfo"] and ":" in value else value
            found += [password, unquote(password), password.strip("'")]
    return [s for s in dict.fromkeys(found) if s]


def redact_quoted(message: str, source: str) -> str:
    """``message`` (a driver error about the connection string ``source``) redacted, and each
    ``"..."`` it quotes from ``source`` hidden when it holds one of its credentials (libpq
    quotes the token it could not parse: ``invalid percent-encoded token: "pa%zz"``)."""
    secrets = secrets_in(source)

    def hide(match: re.Match[str]) -> str:
        token = match[1]
        if any(s in token or (token and token in s) for s in secrets):
            return f'"{REDACTED}"'
        return match[0]

    return redact_urls(re.sub(r'"([^"]*)"', hide, message))


def _replace(match: re.Match[str], text: str) -> str:
    if match["scheme"] is not None:
        return f"{match['scheme']}{REDACTED}@"
    value = _secret(match, text)
    if not value:  # `password=` (empty): no password; nothing to hide
        return match[0]
    start = match.start("qvalue" if match["qkey"] is not None else "kvalue")
    return f"{text[match.start() : start]}{REDACTED}{text[start + len(value) : match.end()]}"


def _secret(match: re.Match[str], text: str) -> str:
    """The credential a match holds (a closing quote of the text around it left out)."""
    if match["scheme"] is not None:
        return match["userinfo"]
    group = "qvalue" if match["qkey"] is not None else "kvalue"
    value = match[group] or ""
    if not value or value.startswith("'"):
        return value
    return _before_closing_quote(value, text[: match.start(group)])


def _before_closing_quote(value: str, before: str) -> str:
    """``value`` up to a quote that closes one opened before it (``got 'password=x'.``)."""
    for index in range(len(value) - 1, -1, -1):
        if value[index] in _QUOTES and before.count(value[index]) % 2 == 1:
            return value[:index]
    return value


class RedactingFilter(logging.Filter):
    """A handler filter that redacts credentials from each record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redacted (and the traceback text, if any)."""
        message = record.getMessage()
        clean = redact_urls(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_urls(record.exc_text)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add :class:`RedactingFilter` to every handler of ``logger`` (default: the root)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
