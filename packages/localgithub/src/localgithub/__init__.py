"""A local GitHub REST API server backed by real bare git repositories, for tests.

Typical use::

    async with LocalGitHub(tmp_path) as gh:
        gh.create_repo("acme/app", files={"README.md": "hi\\n"})
        token = gh.add_user("alice", permission="write")
        gh.open_issue("acme/app", "Fix it", labels=["swarm"], user="alice")
        # point a client at gh.api_url with the token; git at gh.clone_url("acme/app")

The server needs only aiohttp and the git CLI (``git http-backend`` serves the repositories).
"""

from __future__ import annotations

from localgithub.model import CheckRun, Issue, Repo, Review, Status
from localgithub.server import LocalGitHub, RecordedRequest
from localgithub.webhooks import Delivery, signature

__all__ = [
    "CheckRun",
    "Delivery",
    "Issue",
    "LocalGitHub",
    "RecordedRequest",
    "Repo",
    "Review",
    "Status",
    "signature",
]
