"""Every credential form libpq takes is removed from text by the one function, and only the
credential: the rest of the connection string stays readable."""

from __future__ import annotations

import logging

import pytest

from core.privacy.redact import RedactingFilter, redact_quoted, redact_urls

CASES = [
    # URL userinfo (also with '?' or '@' in the password: libpq ends the userinfo at '/')
    ("postgresql://swarm:S3cr3t@db:5432/swarm", "postgresql://[redacted]@db:5432/swarm"),
    ("postgresql://u:pa?ss@h/d", "postgresql://[redacted]@h/d"),
    ("postgresql://u:p@ss@h/d", "postgresql://[redacted]@h/d"),
    ("postgresql://u:my pw@h/d", "postgresql://[redacted]@h/d"),
    # ?password= in any position, repeated, percent-encoded (value and name), sslpassword
    (
        "postgresql://db/swarm?user=swarm&password=S3cr3t",
        "postgresql://db/swarm?user=swarm&password=[redacted]",
    ),
    (
        "postgresql://db/swarm?password=S3cr3t&user=swarm",
        "postgresql://db/swarm?password=[redacted]&user=swarm",
    ),
    (
        "postgresql://db/s?password=S3cr3t&sslmode=disable&password=Other",
        "postgresql://db/s?password=[redacted]&sslmode=disable&password=[redacted]",
    ),
    (
        "postgresql://db/s?pass%77ord=S3%20cr3t&PASSWORD=x&%73slpassword=k",
        "postgresql://db/s?pass%77ord=[redacted]&PASSWORD=[redacted]&%73slpassword=[redacted]",
    ),
    (
        "postgres://db/s?oauth_client_secret=S3cr3t&passfile=/home/me/.pgpass",
        "postgres://db/s?oauth_client_secret=[redacted]&passfile=/home/me/.pgpass",
    ),
    # key=value connection strings: plain, spaced, quoted with escapes, backslash-escaped
    (
        "host=db user=swarm password=S3cr3t dbname=swarm",
        "host=db user=swarm password=[redacted] dbname=swarm",
    ),
    ("host=db password = 'S3 cr\\'3t' user=swarm", "host=db password = [redacted] user=swarm"),
    ("password=S3\\ cr3t host=db", "password=[redacted] host=db"),
    ("host=db password='S3cr3t never closed", "host=db password=[redacted]"),
    # inside messages: the quotes around the value stay
    (
        "must be a postgresql:// URL, got 'host=db password=S3cr3t'.",
        "must be a postgresql:// URL, got 'host=db password=[redacted]'.",
    ),
    ('got "host=db password=it\'s"', 'got "host=db password=[redacted]"'),
    (
        "at 'postgresql://db/s?password=S3cr3t': refused",
        "at 'postgresql://db/s?password=[redacted]': refused",
    ),
    # an API's base URL with its key in the query (OPENAI_BASE_URL may carry one)
    (
        "http://llm.local:8000/v1?api_key=sk-abc123&mode=chat",
        "http://llm.local:8000/v1?api_key=[redacted]&mode=chat",
    ),
    (
        "https://gw.example/openai?KEY=abc&token=t0k&access_token=a1&api-key=z",
        "https://gw.example/openai?KEY=[redacted]&token=[redacted]"
        "&access_token=[redacted]&api-key=[redacted]",
    ),
    # nothing to hide
    ("config key=lease token=none (free text, not a URL's query)", None),
    ("postgresql://db/s?user=swarm&passfile=/p&password=", None),
    ("GET /api/tasks?state=open&password_reset=1", None),
    ("mail me@example.com, http://host/a@b", None),
]


@pytest.mark.parametrize("text, clean", CASES)
def test_each_form_is_redacted_once_and_for_all(text: str, clean: str | None) -> None:
    shown = redact_urls(text)
    assert shown == (text if clean is None else clean)
    assert redact_urls(shown) == shown  # redacting twice changes nothing more


def test_a_driver_error_quoting_a_credential_is_redacted() -> None:
    """libpq quotes the token it cannot parse: a password with a bad escape or a space."""
    assert redact_quoted(
        'invalid percent-encoded token: "S3cr%zz"', "postgresql://db/s?password=S3cr%zz"
    ) == ('invalid percent-encoded token: "[redacted]"')
    assert redact_quoted(
        'unexpected spaces found in "my pw", use percent-encoded spaces',
        "postgresql://u:my pw@db/s",
    ) == ('unexpected spaces found in "[redacted]", use percent-encoded spaces')
    assert redact_quoted(
        'invalid URI query parameter: "bogus"', "postgresql://db/s?password=x&bogus=1"
    ) == ('invalid URI query parameter: "bogus"')  # not a credential: kept, it is the clue


def test_log_records_and_tracebacks_are_redacted() -> None:
    record = logging.LogRecord(
        "t",
        logging.WARNING,
        __file__,
        1,
        "standby: at %s",
        ("postgresql://db/s?user=u&password=S3cr3t",),
        None,
    )
    try:
        raise RuntimeError("host=db password=S3cr3t")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    assert record.getMessage() == "standby: at postgresql://db/s?user=u&password=[redacted]"
    assert record.exc_text and "S3cr3t" not in record.exc_text
    assert "password=[redacted]" in record.exc_text
