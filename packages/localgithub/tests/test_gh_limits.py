"""Authentication, rate limits, ETags and conditional requests, request recording."""

from __future__ import annotations

import time

from ghtest import REPO, Scene

RATE_HEADERS = ("Limit", "Remaining", "Reset", "Used", "Resource")


async def test_bad_token_is_401_with_githubs_body(scene: Scene) -> None:
    for header in ("Bearer nope", "token nope", "Basic eC1hY2Nlc3MtdG9rZW46bm9wZQ=="):
        reply = await scene.anon.get("/user", headers={"Authorization": header})
        assert reply.status == 401
        assert reply.body["message"] == "Bad credentials"
        assert reply.body["documentation_url"].startswith("https://docs.github.com/")
    assert (await scene.anon.get("/user")).status == 401
    assert (await scene.anon.get(f"/repos/{REPO}/issues")).status == 200  # public: readable


async def test_user_and_scopes_header(scene: Scene) -> None:
    fine = await scene.alice.get("/user")
    assert fine.body["login"] == "alice"
    assert "X-OAuth-Scopes" not in fine.headers
    classic = await scene.as_user(scene.tokens["carol"]).get("/user")
    assert classic.body["login"] == "carol"
    assert "repo" in classic.headers["X-OAuth-Scopes"].split(", ")
    for name in RATE_HEADERS:
        assert f"X-RateLimit-{name}" in classic.headers


async def test_etag_304_is_free_and_a_change_gives_a_new_body(scene: Scene) -> None:
    scene.gh.open_issue(REPO, "one")
    path = f"/repos/{REPO}/issues"
    first = await scene.alice.get(path)
    etag = first.headers["ETag"]
    used = int(first.headers["X-RateLimit-Used"])
    remaining = int(first.headers["X-RateLimit-Remaining"])
    for _ in range(3):
        again = await scene.alice.get(path, headers={"If-None-Match": etag})
        assert again.status == 304 and again.body is None
        assert again.headers["ETag"] == etag
        assert int(again.headers["X-RateLimit-Used"]) == used
        assert int(again.headers["X-RateLimit-Remaining"]) == remaining
    scene.gh.open_issue(REPO, "two")
    changed = await scene.alice.get(path, headers={"If-None-Match": etag})
    assert changed.status == 200 and len(changed.body) == 2
    assert changed.headers["ETag"] != etag
    assert int(changed.headers["X-RateLimit-Used"]) == used + 1
    statuses = [(r.method, r.path, r.status) for r in scene.gh.requests]
    assert statuses.count(("GET", path, 304)) == 3
    assert statuses.count(("GET", path, 200)) == 2


async def test_rate_limit_exhaustion_until_reset(scene: Scene) -> None:
    scene.gh.rate_limit(remaining=2, reset_in=3600, login="alice")
    ok = await scene.alice.get(f"/repos/{REPO}")
    assert ok.headers["X-RateLimit-Remaining"] == "1"
    assert (await scene.alice.get(f"/repos/{REPO}")).headers["X-RateLimit-Remaining"] == "0"
    refused = await scene.alice.get(f"/repos/{REPO}")
    assert refused.status == 403
    assert refused.body["message"].startswith("API rate limit exceeded for user ID ")
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) > time.time()
    writes = await scene.alice.post(f"/repos/{REPO}/issues", {"title": "lost?"})
    assert writes.status == 403 and scene.gh.repo(REPO).issues == {}
    other = await scene.bob.get(f"/repos/{REPO}")
    assert other.status == 200  # a limit per user
    free = await scene.alice.get("/rate_limit")
    assert free.status == 200 and free.body["resources"]["core"]["remaining"] == 0
    assert free.body["rate"]["limit"] == 5000
    scene.gh.rate_limit(remaining=0, reset_in=-1, login="alice")  # the reset time passes
    after = await scene.alice.get(f"/repos/{REPO}")
    assert after.status == 200 and after.headers["X-RateLimit-Remaining"] == "4999"


async def test_errors_are_json(scene: Scene) -> None:
    unknown = await scene.alice.get("/no/such/endpoint")
    assert unknown.status == 404 and unknown.body["message"] == "Not Found"
    url = f"{scene.gh.api_url}/repos/{REPO}/issues"
    headers = {"Authorization": f"Bearer {scene.tokens['alice']}"}
    async with scene.session.post(url, data=b"{not json", headers=headers) as response:
        assert response.status == 400
        assert (await response.json())["message"] == "Problems parsing JSON"
    wrong_type = await scene.alice.post(f"/repos/{REPO}/issues", {"title": 5})
    assert wrong_type.status == 422
