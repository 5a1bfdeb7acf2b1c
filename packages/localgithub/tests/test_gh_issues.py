"""Issues, labels and their events, permissions, sub-issues and comments."""

from __future__ import annotations

from ghtest import REPO, Scene


async def test_issue_create_read_update_and_list_filters(scene: Scene) -> None:
    made = await scene.alice.post(
        f"/repos/{REPO}/issues", {"title": "Parser", "body": "fix it", "labels": ["swarm"]}
    )
    assert made.status == 201
    assert (made.body["number"], made.body["state"], made.body["user"]["login"]) == (
        1,
        "open",
        "alice",
    )
    assert [label["name"] for label in made.body["labels"]] == ["swarm"]
    outsider = await scene.bob.post(f"/repos/{REPO}/issues", {"title": "Mine", "labels": ["swarm"]})
    assert outsider.status == 201 and outsider.body["labels"] == []  # no push access: ignored
    await scene.alice.post(f"/repos/{REPO}/issues", {"title": "Closed soon"})
    closed = await scene.alice.patch(f"/repos/{REPO}/issues/3", {"state": "closed"})
    assert closed.body["state"] == "closed" and closed.body["closed_by"]["login"] == "alice"

    open_ = await scene.alice.get(f"/repos/{REPO}/issues")
    assert [i["number"] for i in open_.body] == [2, 1]  # newest first
    labelled = await scene.alice.get(f"/repos/{REPO}/issues?labels=SWARM&state=all")
    assert [i["number"] for i in labelled.body] == [1]
    everything = await scene.alice.get(f"/repos/{REPO}/issues?state=all&direction=asc")
    assert [i["number"] for i in everything.body] == [1, 2, 3]
    later = await scene.alice.get(f"/repos/{REPO}/issues?since=2999-01-01T00:00:00Z")
    assert later.body == []

    edited = await scene.bob.patch(f"/repos/{REPO}/issues/2", {"title": "Mine, renamed"})
    assert edited.status == 200 and edited.body["title"] == "Mine, renamed"
    refused = await scene.bob.patch(f"/repos/{REPO}/issues/1", {"title": "not mine"})
    assert refused.status == 403
    assert (await scene.alice.get(f"/repos/{REPO}/issues/1")).body["title"] == "Parser"
    missing = await scene.alice.get(f"/repos/{REPO}/issues/99")
    assert missing.status == 404 and missing.body["message"] == "Not Found"
    no_title = await scene.alice.post(f"/repos/{REPO}/issues", {"body": "x"})
    assert no_title.status == 422
    assert no_title.body["errors"] == [
        {"resource": "Issue", "field": "title", "code": "missing_field"}
    ]
    no_repo = await scene.alice.get("/repos/acme/none/issues")
    assert no_repo.status == 404


async def test_pagination_link_header(scene: Scene) -> None:
    for n in range(5):
        scene.gh.open_issue(REPO, f"issue {n}")
    first = await scene.alice.get(f"/repos/{REPO}/issues?per_page=2")
    assert [i["number"] for i in first.body] == [5, 4]
    links = dict(
        (part.split(";")[1].strip(), part.split(";")[0].strip(" <>"))
        for part in first.headers["Link"].split(",")
    )
    assert set(links) == {'rel="next"', 'rel="last"'}
    last = await scene.alice.get(links['rel="last"'])
    assert [i["number"] for i in last.body] == [1]
    assert 'rel="prev"' in last.headers["Link"] and 'rel="next"' not in last.headers["Link"]


async def test_labels_and_label_events_name_the_actor(scene: Scene) -> None:
    issue = scene.gh.open_issue(REPO, "Task", user="bob", labels=["swarm"], labeled_by="carol")
    path = f"/repos/{REPO}/issues/{issue.number}"
    added = await scene.alice.post(f"{path}/labels", {"labels": ["role:qa", "priority:high"]})
    assert [label["name"] for label in added.body] == ["swarm", "role:qa", "priority:high"]
    removed = await scene.alice.delete(f"{path}/labels/role:qa")
    assert [label["name"] for label in removed.body] == ["swarm", "priority:high"]
    absent = await scene.alice.delete(f"{path}/labels/role:qa")
    assert absent.status == 404 and absent.body["message"] == "Label does not exist"
    reader = await scene.bob.post(f"{path}/labels", {"labels": ["x"]})
    assert reader.status == 403
    events = await scene.alice.get(f"{path}/events")
    assert [(e["event"], e["actor"]["login"], e["label"]["name"]) for e in events.body] == [
        ("labeled", "carol", "swarm"),
        ("labeled", "alice", "role:qa"),
        ("labeled", "alice", "priority:high"),
        ("unlabeled", "alice", "role:qa"),
    ]
    assert all(e["created_at"].endswith("Z") for e in events.body)
    scene.gh.close_issue(REPO, issue.number, actor="alice")
    events = await scene.alice.get(f"{path}/events")
    assert events.body[-1]["event"] == "closed"

    repo_labels = await scene.alice.get(f"/repos/{REPO}/labels")
    assert {label["name"] for label in repo_labels.body} == {"swarm", "role:qa", "priority:high"}
    created = await scene.alice.post(
        f"/repos/{REPO}/labels", {"name": "swarm:working", "color": "#00FF00"}
    )
    assert created.status == 201 and created.body["color"] == "00ff00"
    again = await scene.alice.post(f"/repos/{REPO}/labels", {"name": "SWARM:working"})
    assert again.status == 422 and again.body["errors"][0]["code"] == "already_exists"
    replaced = await scene.alice.put(f"{path}/labels", {"labels": ["swarm:working"]})
    assert [label["name"] for label in replaced.body] == ["swarm:working"]
    cleared = await scene.alice.delete(f"{path}/labels")
    assert cleared.status == 204
    assert scene.gh.issue(REPO, issue.number).labels == []


async def test_collaborator_permission(scene: Scene) -> None:
    for login, expected in (
        ("alice", "write"),
        ("bob", "read"),
        ("carol", "admin"),
        ("acme", "admin"),
    ):
        reply = await scene.bob.get(f"/repos/{REPO}/collaborators/{login}/permission")
        assert reply.status == 200
        assert (reply.body["permission"], reply.body["user"]["login"]) == (expected, login)
    unknown = await scene.bob.get(f"/repos/{REPO}/collaborators/nobody/permission")
    assert unknown.status == 404


async def test_sub_issues(scene: Scene) -> None:
    parent = scene.gh.open_issue(REPO, "Epic")
    child = scene.gh.open_issue(REPO, "Part 1")
    other = scene.gh.open_issue(REPO, "Part 2")
    scene.gh.add_sub_issue(REPO, parent.number, child.number)
    added = await scene.alice.post(
        f"/repos/{REPO}/issues/{parent.number}/sub_issues", {"sub_issue_id": other.id}
    )
    assert added.status == 201 and added.body["sub_issues_summary"]["total"] == 2
    listed = await scene.alice.get(f"/repos/{REPO}/issues/{parent.number}/sub_issues")
    assert [i["number"] for i in listed.body] == [child.number, other.number]
    bad = await scene.alice.post(
        f"/repos/{REPO}/issues/{parent.number}/sub_issues", {"sub_issue_id": 1}
    )
    assert bad.status == 422


async def test_comments(scene: Scene) -> None:
    issue = scene.gh.open_issue(REPO, "Talk")
    path = f"/repos/{REPO}/issues/{issue.number}/comments"
    made = await scene.alice.post(path, {"body": "Working on it"})
    assert made.status == 201 and made.body["user"]["login"] == "alice"
    comment_url = made.body["url"]
    assert comment_url.endswith(f"/repos/{REPO}/issues/comments/{made.body['id']}")
    scene.gh.comment(REPO, issue.number, "me too", user="bob")
    edited = await scene.alice.patch(comment_url, {"body": "Done"})
    assert edited.status == 200 and edited.body["body"] == "Done"
    listed = await scene.alice.get(path)
    assert [c["body"] for c in listed.body] == ["Done", "me too"]
    issue_json = await scene.alice.get(f"/repos/{REPO}/issues/{issue.number}")
    assert issue_json.body["comments"] == 2
    not_his = await scene.bob.patch(comment_url, {"body": "hijack"})
    assert not_his.status == 403
    anonymous = await scene.anon.post(path, {"body": "hi"})
    assert anonymous.status == 401
    deleted = await scene.alice.delete(comment_url)
    assert deleted.status == 204
    assert (await scene.alice.get(comment_url)).status == 404
    empty = await scene.alice.post(path, {})
    assert empty.status == 422
    broken = await scene.alice.call("POST", path, None, {"Content-Type": "application/json"})
    assert broken.status == 422
