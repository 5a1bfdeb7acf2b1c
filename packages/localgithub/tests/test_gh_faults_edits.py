"""Injected failures (an answer lost after the request took effect, a request refused before
it did anything, an answer held until released) and an issue's edits: the ``renamed`` event
of REST and the body's edit history of GraphQL (``userContentEdits``)."""

from __future__ import annotations

import asyncio

from ghtest import REPO, Scene

EDITS = """query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { issue(number: $number) {
    createdAt includesCreatedEdit lastEditedAt editor { login }
    userContentEdits(first: 100) { totalCount nodes { editedAt editor { login } } } } } }"""


async def test_a_lost_answer_a_refusal_and_a_held_answer(scene: Scene) -> None:
    issue = scene.gh.open_issue(REPO, "x")
    path = f"/repos/{REPO}/issues/{issue.number}/comments"
    scene.gh.fail("POST", f"/repos/{REPO}/issues/*/comments")
    lost = await scene.alice.post(path, {"body": "one"})
    assert lost.status == 502 and lost.body["message"] == "Server Error"
    assert [c.body for c in scene.gh.repo(REPO).comments.values()] == ["one"]  # it took effect
    assert (await scene.alice.post(path, {"body": "two"})).status == 201  # once only

    scene.gh.fail("POST", path, status=503, after=False)
    refused = await scene.alice.post(path, {"body": "three"})
    assert refused.status == 503 and len(scene.gh.repo(REPO).comments) == 2  # no effect

    held = scene.gh.fail("POST", path, hang=True)
    call = asyncio.ensure_future(scene.alice.post(path, {"body": "four"}))
    await asyncio.wait_for(held.reached.wait(), 10)
    await asyncio.sleep(0.05)
    assert not call.done() and len(scene.gh.repo(REPO).comments) == 3  # done, not answered
    held.release()
    assert (await call).status == 502
    assert scene.gh.requests[-1].status == 502


async def test_title_and_body_edits_are_seen_as_github_shows_them(scene: Scene) -> None:
    issue = scene.gh.open_issue(REPO, "Title", "first", user="bob", labels=["swarm"])
    variables = {"owner": "acme", "name": "app", "number": issue.number}
    query = {"query": EDITS, "variables": variables}
    never = (await scene.alice.post("/graphql", query)).body["data"]["repository"]["issue"]
    assert never["userContentEdits"] == {"totalCount": 0, "nodes": []}
    assert never["lastEditedAt"] is None and never["includesCreatedEdit"] is False

    before = scene.gh.issue(REPO, issue.number).updated_at
    edited = await scene.bob.patch(
        f"/repos/{REPO}/issues/{issue.number}", {"title": "Better", "body": "second"}
    )
    assert edited.status == 200 and edited.body["updated_at"] > before
    found = (await scene.alice.post("/graphql", query)).body["data"]["repository"]["issue"]
    nodes = found["userContentEdits"]["nodes"]
    assert [n["editor"]["login"] for n in nodes] == ["bob", "bob"]  # the edit, the creation
    assert found["includesCreatedEdit"] is True and found["editor"] == {"login": "bob"}
    assert nodes[-1]["editedAt"] == found["createdAt"]
    events = (await scene.alice.get(f"/repos/{REPO}/issues/{issue.number}/events")).body
    (renamed,) = [e for e in events if e["event"] == "renamed"]
    assert renamed["rename"] == {"from": "Title", "to": "Better"}
    assert renamed["actor"]["login"] == "bob"

    missing = {"query": EDITS, "variables": {**variables, "number": 99}}
    assert (await scene.alice.post("/graphql", missing)).body["errors"]
